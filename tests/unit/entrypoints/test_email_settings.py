"""The e-mail settings: checked at start, and the sender the container builds from them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from adapters.email.files import FileEmailSender
from adapters.resilience import BreakerBoard
from entrypoints.settings import SettingsError, load_settings
from entrypoints.wiring.email import email_sender
from talia_core.shared.clock import SystemClock


@pytest.mark.parametrize(
    ("email", "variable"),
    [
        ({"backend": "smtp"}, "TALIA_EMAIL__HOST"),
        ({"password": "secret"}, "TALIA_EMAIL__USERNAME"),
        ({"tls": "none", "ca_file": __file__}, "TALIA_EMAIL__CA_FILE"),
        ({"ca_file": "/no/such/ca.pem"}, "TALIA_EMAIL__CA_FILE"),
        ({"verify_url": "https://shop.example/verify"}, "TALIA_EMAIL__VERIFY_URL"),
        ({"reset_url": "javascript:{token}"}, "TALIA_EMAIL__RESET_URL"),
        ({"from_address": "Talia <talia@example.com>"}, "TALIA_EMAIL__FROM_ADDRESS"),
        ({"tls": "ssl"}, "TALIA_EMAIL__TLS"),
        ({"reset_minutes": 1}, "TALIA_EMAIL__RESET_MINUTES"),
    ],
)
def test_a_wrong_email_setting_stops_start_up_naming_the_variable(
    email: dict[str, Any], variable: str
) -> None:
    with pytest.raises(SettingsError, match=variable):
        load_settings(_env_file=None, email=email)


def test_without_settings_mail_is_written_to_a_directory_and_not_sent(tmp_path: Path) -> None:
    settings = load_settings(_env_file=None, email={"directory": str(tmp_path)})

    sender = email_sender(settings, BreakerBoard(), SystemClock())

    assert isinstance(sender, FileEmailSender)
