"""The demo's rules and a scheduling service on fakes, for the scheduling unit tests."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from functools import partial

from adapters.memory.database import InMemoryDatabase
from adapters.memory.scheduling import InMemoryCalendar
from adapters.memory.unit_of_work import InMemoryUnitOfWork
from talia_core.scheduling.schedule import ScheduleRules
from talia_core.scheduling.services import SchedulingService
from talia_core.shared.clock import FakeClock

LIMA = "America/Lima"
NOW = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)
"""Monday 2 March 2026, 08:00 in Lima: an hour before opening."""


def lima_rules(**changes: object) -> ScheduleRules:
    weekdays = {d: ((time(9), time(18)),) for d in range(5)}
    values: dict[str, object] = {
        "calendar_id": "front-desk",
        "time_zone": LIMA,
        "weekly": {**weekdays, 5: ((time(9), time(13)),)},
        "slot_minutes": 30,
        "minimum_notice_minutes": 60,
        "horizon_days": 30,
    }
    values.update(changes)
    return ScheduleRules(**values)  # type: ignore[arg-type]


def a_service(
    rules: ScheduleRules | None = None, *, reminder_lead: timedelta | None = None
) -> tuple[SchedulingService, InMemoryCalendar, InMemoryDatabase, FakeClock]:
    database = InMemoryDatabase()
    calendar = InMemoryCalendar()
    clock = FakeClock(NOW)
    service = SchedulingService(
        partial(InMemoryUnitOfWork, database),
        calendar,
        rules or lima_rules(),
        clock,
        reminder_lead=reminder_lead,
    )
    return service, calendar, database, clock
