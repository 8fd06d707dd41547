"""The webhook's settings: checked at start, and what the container builds from them."""

from __future__ import annotations

import pytest

from entrypoints.container import build_container
from entrypoints.settings import SettingsError, load_settings
from talia_core.notifications.consumers import WEBHOOK_CONSUMER
from talia_core.shared.outbox_relay import RELAY_JOB
from tests.api import settings_for_tests

URL = "https://crm.example.com/hooks/talia"
SECRET = "s" * 32


@pytest.mark.parametrize("secret", ["", "s" * 31])
def test_a_webhook_url_without_a_long_enough_secret_stops_start_up(secret: str) -> None:
    with pytest.raises(SettingsError, match="TALIA_NOTIFICATIONS__WEBHOOK_SECRET"):
        load_settings(_env_file=None, notifications={"webhook_url": URL, "webhook_secret": secret})


@pytest.mark.parametrize("events", ["claim.filed,Claim Filed", "claim", "order.paid;claim.filed"])
def test_a_malformed_event_name_stops_start_up_naming_the_variable(events: str) -> None:
    with pytest.raises(SettingsError, match="TALIA_NOTIFICATIONS__EVENTS"):
        load_settings(_env_file=None, notifications={"events": events})


def test_events_are_read_comma_separated_without_blanks_or_repeats() -> None:
    settings = load_settings(
        _env_file=None, notifications={"events": " claim.filed, order.paid,,claim.filed "}
    )

    assert settings.notifications.events == "claim.filed,order.paid"
    assert settings.notifications.event_names == {"claim.filed", "order.paid"}


def test_the_webhook_has_its_jobs_only_when_its_url_is_set() -> None:
    quiet = build_container(settings_for_tests("sqlite+aiosqlite:///:memory:"))
    hooked = build_container(
        settings_for_tests(
            "sqlite+aiosqlite:///:memory:",
            notifications={"webhook_url": URL, "webhook_secret": SECRET},
        )
    )

    assert RELAY_JOB in quiet.use_cases.job_runner().kinds
    assert WEBHOOK_CONSUMER not in quiet.use_cases.job_runner().kinds
    assert quiet.gateways.event_notifier() is None
    assert {RELAY_JOB, WEBHOOK_CONSUMER} <= hooked.use_cases.job_runner().kinds
