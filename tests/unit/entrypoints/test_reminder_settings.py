"""Reminder templates from the settings: WhatsApp's by name and language, Twilio's by its
Content SID; a bad value stops start-up naming the variable."""

from __future__ import annotations

import pydantic
import pytest

from entrypoints.wiring.reminders import reminder_templates
from talia_core.conversations.messages import Template
from talia_core.conversations.vocabulary import Channel
from tests.api import settings_for_tests

URL = "sqlite+aiosqlite:///:memory:"
CONTENT_SID = "HX0123456789abcdef0123456789abcdef"


def test_by_default_whatsapp_reminders_are_the_recordatorio_cita_template() -> None:
    templates = reminder_templates(settings_for_tests(URL))

    assert templates == {Channel.WHATSAPP: Template("recordatorio_cita", "es")}


def test_a_twilio_content_sid_makes_twilio_reminders_a_template_too() -> None:
    settings = settings_for_tests(
        URL,
        calendar={
            "reminder_template": "cita_aviso",
            "reminder_template_language": "es_PE",
            "reminder_twilio_content_sid": CONTENT_SID,
        },
    )

    assert reminder_templates(settings) == {
        Channel.WHATSAPP: Template("cita_aviso", "es_PE"),
        Channel.TWILIO: Template(CONTENT_SID, "es_PE"),
    }


def test_without_a_template_name_reminders_go_out_as_text() -> None:
    settings = settings_for_tests(URL, calendar={"reminder_template": ""})

    assert reminder_templates(settings) == {}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("reminder_template_language", "spanish"),
        ("reminder_twilio_content_sid", "recordatorio_cita"),
    ],
)
def test_a_malformed_template_setting_is_refused(field: str, value: str) -> None:
    with pytest.raises(pydantic.ValidationError, match=field):
        settings_for_tests(URL, calendar={field: value})
