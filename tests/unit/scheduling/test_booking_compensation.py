"""A calendar that held the slot and then failed its answer: the booking gives it back."""

from __future__ import annotations

from functools import partial

import pytest

from adapters.memory.database import InMemoryDatabase
from adapters.memory.scheduling import InMemoryCalendar
from adapters.memory.unit_of_work import InMemoryUnitOfWork
from talia_core.scheduling.model import CalendarBooking, CalendarEntry
from talia_core.scheduling.services import SchedulingService
from talia_core.shared.clock import FakeClock
from talia_core.shared.errors import ExternalServiceUnavailable
from talia_core.shared.pagination import PageRequest
from tests.unit.scheduling.builders import NOW, lima_rules
from tests.unit.scheduling.test_slots import lima


class TimesOutAfterHolding(InMemoryCalendar):
    """Like a provider that made the event and whose answer never arrived."""

    async def book(self, booking: CalendarBooking) -> CalendarEntry:
        await super().book(booking)
        raise ExternalServiceUnavailable("calendar", "booking timed out")


async def test_a_hold_whose_answer_failed_is_cancelled_and_nothing_is_recorded() -> None:
    database = InMemoryDatabase()
    calendar = TimesOutAfterHolding()
    service = SchedulingService(
        partial(InMemoryUnitOfWork, database), calendar, lima_rules(), FakeClock(NOW)
    )

    with pytest.raises(ExternalServiceUnavailable):
        await service.book(starts_at=lima(3, 10), contact_id="c-1", booked_by="assistant")

    assert list(await calendar.busy("front-desk", lima(3, 0), lima(4, 0))) == []
    assert (await service.list_appointments(PageRequest())).total == 0
    assert database.committed.outbox == []
    offered = await service.availability(lima(3, 9), lima(3, 12))
    assert lima(3, 10) in {s.start for s in offered}
