"""The local calendar: events in the database, each booking claiming its time atomically."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import exc
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.connection import Transaction, translate
from adapters.persistence.engine import READ_ONLY, autocommit_allowed
from adapters.persistence.scheduling.events import CalendarEvent, SqlAlchemyCalendarEventRepository
from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWork
from talia_core.scheduling.errors import SlotTaken
from talia_core.scheduling.model import CalendarBooking, CalendarEntry, TimeRange
from talia_core.shared.clock import Clock
from talia_core.shared.errors import Conflict, ExternalServiceUnavailable
from talia_core.shared.ids import new_id


def _entry(event: CalendarEvent) -> CalendarEntry:
    assert event.appointment_id is not None
    return CalendarEntry(
        appointment_id=event.appointment_id,
        calendar_id=event.calendar_id,
        event_id=event.id,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
    )


class SqlAlchemyCalendar:
    """Each call is its own transaction, apart from the caller's unit of work."""

    def __init__(self, engine: AsyncEngine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock

    async def busy(self, calendar_id: str, start: datetime, end: datetime) -> Sequence[TimeRange]:
        """One statement in autocommit: no transaction to open and roll back, and no unit of
        work to bind, on the path every availability question takes (in a transaction behind
        a pooler in transaction mode, which cannot run one outside)."""
        window = TimeRange(start, end)
        options: dict[str, object] = {READ_ONLY: True}
        if autocommit_allowed(self._engine):
            options["isolation_level"] = "AUTOCOMMIT"
        try:
            async with self._engine.connect() as connection:
                reading = await connection.execution_options(**options)
                events = SqlAlchemyCalendarEventRepository(Transaction(reading))
                return await events.busy(calendar_id, window.start, window.end)
        except exc.DBAPIError as error:
            raise translate(error) from error
        except OSError as error:
            raise ExternalServiceUnavailable("database", type(error).__name__) from error

    async def book(self, booking: CalendarBooking) -> CalendarEntry:
        time = booking.range
        event = CalendarEvent(
            id=new_id(),
            calendar_id=booking.calendar_id,
            appointment_id=booking.appointment_id,
            starts_at=time.start,
            ends_at=time.end,
            summary=booking.summary[:200],
            description=booking.description,
            cancelled=False,
            sequence=0,
            updated_at=self._clock.now(),
        )
        try:
            async with SqlAlchemyUnitOfWork(self._engine) as uow:
                await uow.calendar_events.add(event)
                try:
                    await uow.calendar_events.claim(event)
                except Conflict:
                    raise SlotTaken(time.start) from None
                if await uow.calendar_events.busy(
                    booking.calendar_id, time.start, time.end, blocked_only=True
                ):
                    raise SlotTaken(time.start)
                await uow.commit()
        except SlotTaken:
            raise
        except Conflict:
            # The appointment has its event already: booking it again is a retry.
            async with SqlAlchemyUnitOfWork(self._engine, read_only=True) as uow:
                held = await uow.calendar_events.for_appointment(booking.appointment_id)
            if held is None or held.cancelled:
                raise
            return _entry(held)
        return _entry(event)

    async def block(self, calendar_id: str, busy: TimeRange, summary: str) -> str:
        """Busy time the business keeps for itself (no appointment); returns the event id."""
        event = CalendarEvent(
            id=new_id(),
            calendar_id=calendar_id,
            appointment_id=None,
            starts_at=busy.start,
            ends_at=busy.end,
            summary=summary[:200],
            description="",
            cancelled=False,
            sequence=0,
            updated_at=self._clock.now(),
        )
        async with SqlAlchemyUnitOfWork(self._engine) as uow:
            await uow.calendar_events.add(event)
            await uow.commit()
        return event.id

    async def cancel(self, calendar_id: str, appointment_id: str) -> None:
        async with SqlAlchemyUnitOfWork(self._engine) as uow:
            await uow.calendar_events.cancel(calendar_id, appointment_id, at=self._clock.now())
            await uow.commit()

    async def events(self, calendar_id: str, since: datetime) -> Sequence[CalendarEvent]:
        """What the calendar's feed lists: events ending after ``since``, cancelled included."""
        async with SqlAlchemyUnitOfWork(self._engine, read_only=True) as uow:
            return await uow.calendar_events.listed(calendar_id, since)
