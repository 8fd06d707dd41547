"""The calendar as configured (``TALIA_CALENDAR__PROVIDER``) and the schedule it keeps."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.calendar.local_feed import LocalCalendarFeed
from adapters.persistence.scheduling.calendar import SqlAlchemyCalendar
from adapters.resilience import BreakerBoard
from entrypoints.settings import Settings
from entrypoints.settings.calendar import CalendarProvider
from entrypoints.wiring.outlook import outlook_calendar
from talia_core.scheduling.ports import Calendar
from talia_core.scheduling.schedule import ScheduleRules, parse_exceptions, parse_weekly_hours
from talia_core.shared.clock import Clock


def calendar_id(settings: Settings) -> str:
    """On Outlook a calendar is its mailbox; locally, the configured name."""
    if settings.calendar.provider is CalendarProvider.OUTLOOK:
        return settings.outlook.mailbox
    return settings.calendar.calendar_id


def reminder_lead(settings: Settings) -> timedelta | None:
    minutes = settings.calendar.reminder_minutes_before
    return timedelta(minutes=minutes) if minutes else None


def schedule_rules(settings: Settings) -> ScheduleRules:
    config = settings.calendar
    return ScheduleRules(
        calendar_id=calendar_id(settings),
        time_zone=config.time_zone,
        weekly=parse_weekly_hours(config.business_hours),
        exceptions=parse_exceptions(config.closed_days),
        slot_minutes=config.slot_minutes,
        buffer_before_minutes=config.buffer_before_minutes,
        buffer_after_minutes=config.buffer_after_minutes,
        minimum_notice_minutes=config.minimum_notice_minutes,
        horizon_days=config.horizon_days,
    )


def selected_calendar(
    settings: Settings,
    local: SqlAlchemyCalendar,
    client: httpx.AsyncClient,
    board: BreakerBoard,
) -> Calendar:
    if settings.calendar.provider is CalendarProvider.OUTLOOK:
        return outlook_calendar(settings, client, board)
    return local


def ics_feed(
    settings: Settings, local: SqlAlchemyCalendar, clock: Clock
) -> LocalCalendarFeed | None:
    """The iCalendar feed of the local calendar; Outlook shares its calendars itself."""
    if settings.calendar.provider is not CalendarProvider.LOCAL:
        return None
    secret = settings.calendar.feed_secret.get_secret_value()
    return LocalCalendarFeed(
        local,
        clock,
        secret=secret or settings.auth.jwt_secret.get_secret_value(),
        calendar_id=settings.calendar.calendar_id,
    )


def local_calendar(engine: AsyncEngine, clock: Clock) -> SqlAlchemyCalendar:
    return SqlAlchemyCalendar(engine, clock)
