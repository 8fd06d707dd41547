"""TALIA_LEADS__CHATWOOT_LABEL: a label Chatwoot takes, and only with Chatwoot configured."""

from __future__ import annotations

import os

import pytest

from entrypoints.settings import SettingsError, load_settings

CHATWOOT = {
    "TALIA_CHANNELS__CHATWOOT_URL": "https://chat.example.com",
    "TALIA_CHANNELS__CHATWOOT_ACCOUNT_ID": "1",
    "TALIA_CHANNELS__CHATWOOT_API_TOKEN": "bot-token",
}


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No TALIA_* variable from the outside."""
    for name in list(os.environ):
        if name.upper().startswith("TALIA_"):
            monkeypatch.delenv(name)
    return monkeypatch


def test_the_label_is_off_by_default(environment: pytest.MonkeyPatch) -> None:
    assert load_settings(_env_file=None).leads.chatwoot_label == ""


def test_a_label_without_chatwoot_stops_start_up_naming_what_it_needs(
    environment: pytest.MonkeyPatch,
) -> None:
    environment.setenv("TALIA_LEADS__CHATWOOT_LABEL", "lead-calificado")

    with pytest.raises(SettingsError, match="CHATWOOT_LABEL needs TALIA_CHANNELS__CHATWOOT_URL"):
        load_settings(_env_file=None)

    for name, value in CHATWOOT.items():
        environment.setenv(name, value)
    assert load_settings(_env_file=None).leads.chatwoot_label == "lead-calificado"


@pytest.mark.parametrize("label", ["Lead Calificado", "lead,calificado", "x" * 101])
def test_a_label_chatwoot_would_not_take_is_refused_naming_the_variable(
    environment: pytest.MonkeyPatch, label: str
) -> None:
    for name, value in CHATWOOT.items():
        environment.setenv(name, value)
    environment.setenv("TALIA_LEADS__CHATWOOT_LABEL", label)

    with pytest.raises(SettingsError, match="TALIA_LEADS__CHATWOOT_LABEL"):
        load_settings(_env_file=None)
