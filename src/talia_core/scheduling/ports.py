"""What scheduling needs from the world: a calendar that holds the business's time, and
storage for appointments and schedules."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from talia_core.scheduling.model import (
    Appointment,
    AppointmentStatus,
    CalendarBooking,
    CalendarEntry,
    TimeRange,
)
from talia_core.shared.jobs import JobsUnitOfWork
from talia_core.shared.pagination import Page, PageRequest


class Calendar(Protocol):
    """The business's calendar, where booked time lives (the database, Outlook ...).

    Every adapter guarantees:

    - ``busy`` returns, sorted by start, every busy range of the calendar that overlaps
      ``[start, end)``, unclipped, in UTC; cancelled appointments are not busy. Ranges may
      come from events the business entered by hand, not only from ``book``.
    - ``book`` holds the booking's time, or raises ``SlotTaken`` when any busy range
      overlaps ``[starts_at, ends_at)`` at that moment. Two bookings of overlapping time
      racing each other: at most one succeeds. It is idempotent on ``appointment_id``:
      booking the same appointment again returns the same entry and never creates a second
      event, even when its own time would now look busy.
    - ``cancel`` frees the appointment's time at once (``busy`` stops reporting it). It is
      idempotent: cancelling twice, or an appointment the calendar never held, does nothing.
    - Failures of the provider surface as ``ExternalServiceUnavailable``, never as a
      vendor's exception.
    """

    async def busy(
        self, calendar_id: str, start: datetime, end: datetime
    ) -> Sequence[TimeRange]: ...

    async def book(self, booking: CalendarBooking) -> CalendarEntry: ...

    async def cancel(self, calendar_id: str, appointment_id: str) -> None: ...


class AppointmentRepository(Protocol):
    async def add(self, appointment: Appointment) -> None: ...

    async def get(self, appointment_id: str) -> Appointment:
        """Raises ``NotFound``; locked until the transaction ends in a writing unit."""
        ...

    async def update(self, appointment: Appointment) -> None: ...

    async def find(
        self,
        page: PageRequest,
        *,
        starts_from: datetime | None = None,
        starts_before: datetime | None = None,
        status: AppointmentStatus | None = None,
        contact_id: str | None = None,
    ) -> Page[Appointment]:
        """Soonest first."""
        ...


class SchedulingUnitOfWork(JobsUnitOfWork, Protocol):
    @property
    def appointments(self) -> AppointmentRepository: ...
