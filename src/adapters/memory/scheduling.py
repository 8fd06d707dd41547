"""The in-memory calendar and the in-memory repositories of the scheduling context."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

import attrs

from adapters.memory.database import InMemoryRepositoryBundle, InMemoryTable, State
from talia_core.scheduling.errors import SlotTaken
from talia_core.scheduling.model import (
    Appointment,
    AppointmentStatus,
    CalendarBooking,
    CalendarEntry,
    TimeRange,
)
from talia_core.shared.ids import new_id
from talia_core.shared.pagination import Page, PageRequest


@attrs.define
class _Event:
    entry: CalendarEntry
    cancelled: bool = False

    @property
    def range(self) -> TimeRange:
        return TimeRange(self.entry.starts_at, self.entry.ends_at)


class InMemoryCalendar:
    """A calendar held in a dict. No ``await`` runs between its check and its write, so
    concurrent bookings in one event loop take turns like rows under a unique key."""

    def __init__(self) -> None:
        self._events: dict[tuple[str, str], _Event] = {}
        self._blocked: dict[str, list[TimeRange]] = {}

    def block(self, calendar_id: str, busy: TimeRange) -> None:
        """Busy time entered in the calendar by hand, not through a booking."""
        self._blocked.setdefault(calendar_id, []).append(busy)

    async def busy(self, calendar_id: str, start: datetime, end: datetime) -> Sequence[TimeRange]:
        window = TimeRange(start, end)
        return sorted(
            (r for r in self._ranges(calendar_id) if r.overlaps(window)),
            key=lambda r: (r.start, r.end),
        )

    async def book(self, booking: CalendarBooking) -> CalendarEntry:
        key = (booking.calendar_id, booking.appointment_id)
        held = self._events.get(key)
        if held is not None and not held.cancelled:
            return held.entry
        wanted = booking.range
        if any(r.overlaps(wanted) for r in self._ranges(booking.calendar_id)):
            raise SlotTaken(wanted.start)
        entry = CalendarEntry(
            appointment_id=booking.appointment_id,
            calendar_id=booking.calendar_id,
            event_id=new_id(),
            starts_at=wanted.start,
            ends_at=wanted.end,
        )
        self._events[key] = _Event(entry)
        return entry

    async def cancel(self, calendar_id: str, appointment_id: str) -> None:
        held = self._events.get((calendar_id, appointment_id))
        if held is not None:
            held.cancelled = True

    def _ranges(self, calendar_id: str) -> list[TimeRange]:
        booked = [
            e.range
            for (cal, _), e in self._events.items()
            if cal == calendar_id and not e.cancelled
        ]
        return booked + self._blocked.get(calendar_id, [])


class InMemoryAppointmentRepository(InMemoryTable[Appointment]):
    def __init__(self, state: Callable[[], State]) -> None:
        super().__init__(state, "appointments", "appointment")

    async def find(
        self,
        page: PageRequest,
        *,
        starts_from: datetime | None = None,
        starts_before: datetime | None = None,
        status: AppointmentStatus | None = None,
        contact_id: str | None = None,
    ) -> Page[Appointment]:
        found = sorted(
            self.matching(
                lambda a: (
                    (starts_from is None or a.starts_at >= starts_from)
                    and (starts_before is None or a.starts_at < starts_before)
                    and (status is None or a.status is status)
                    and (contact_id is None or a.contact_id == contact_id)
                )
            ),
            key=lambda a: (a.starts_at, a.id),
        )
        return Page(
            items=found[page.offset : page.offset + page.limit],
            total=len(found),
            limit=page.limit,
            offset=page.offset,
        )


class InMemorySchedulingRepositories(InMemoryRepositoryBundle):
    appointments: InMemoryAppointmentRepository

    def bind(self, state: Callable[[], State]) -> None:
        self.appointments = InMemoryAppointmentRepository(state)
        super().bind(state)
