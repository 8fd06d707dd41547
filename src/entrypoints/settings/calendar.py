"""The settings of the business's calendar and its schedule (``TALIA_CALENDAR__*``)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field, SecretStr


class CalendarProvider(StrEnum):
    LOCAL = "local"
    OUTLOOK = "outlook"


class CalendarSettings(BaseModel):
    """The business's calendar and when it takes appointments."""

    provider: CalendarProvider = Field(
        CalendarProvider.LOCAL,
        description="Where appointments are held; local: the database, with an iCalendar feed; "
        "outlook: the mailbox of TALIA_OUTLOOK__MAILBOX through Microsoft Graph.",
    )
    calendar_id: str = Field("main", pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")
    time_zone: str = Field("America/Lima", description="The business's IANA time zone.")
    business_hours: str = Field(
        "mon-fri 09:00-18:00; sat 09:00-13:00",
        description="Weekly opening hours in the business's zone, days then intervals.",
    )
    closed_days: str = Field(
        "",
        description="Holidays and exceptions: '2026-12-25; 2026-12-24 09:00-13:00' (a date "
        "alone is closed all day).",
    )
    slot_minutes: int = Field(30, ge=5, le=480, description="Slot length and step.")
    buffer_before_minutes: int = Field(0, ge=0, le=240)
    buffer_after_minutes: int = Field(0, ge=0, le=240)
    minimum_notice_minutes: int = Field(60, ge=0, description="How soon a slot may be booked.")
    horizon_days: int = Field(60, ge=1, le=365, description="How far ahead slots are offered.")
    reminder_minutes_before: int = Field(
        1440,
        ge=0,
        le=10080,
        description="When a customer's appointment is announced as due "
        "(appointment.reminder_due); 0: never.",
    )
    reminder_template: str = Field(
        "recordatorio_cita",
        max_length=512,
        description="The approved WhatsApp Cloud API template reminders go out as (body "
        "parameters: the customer's name, the date and time); empty: plain text.",
    )
    reminder_template_language: str = Field(
        "es", pattern=r"^[a-z]{2,3}(_[A-Z]{2})?$", description="The template's language code."
    )
    reminder_twilio_content_sid: str = Field(
        "",
        pattern=r"^(HX[0-9a-fA-F]{32})?$",
        description="The Twilio Content API template reminders go out as (variables 1: the "
        "name, 2: the date and time); empty: plain text, which WhatsApp delivers only within "
        "24 hours of the customer's last message.",
    )
    feed_secret: SecretStr = Field(
        SecretStr(""),
        description="Signs the token in the calendar's iCalendar feed URL; empty: the JWT one.",
    )
