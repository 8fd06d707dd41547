"""The local calendar's events and the claims that keep two of them off the same time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import attrs
import sqlalchemy as sa

from adapters.persistence.connection import Transaction
from adapters.persistence.scheduling.tables import calendar_claims, calendar_events
from talia_core.scheduling.model import TimeRange

CELL_SECONDS = 300


def cells(time: TimeRange) -> range:
    """The 5-minute cells ``time`` touches, numbered from the Unix epoch."""
    first = int(time.start.timestamp()) // CELL_SECONDS
    last = -(-int(time.end.timestamp()) // CELL_SECONDS)
    return range(first, last)


@attrs.frozen
class CalendarEvent:
    id: str
    calendar_id: str
    appointment_id: str | None
    starts_at: datetime
    ends_at: datetime
    summary: str
    description: str
    cancelled: bool
    sequence: int
    updated_at: datetime


class SqlAlchemyCalendarEventRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def add(self, event: CalendarEvent) -> None:
        """Raises ``Conflict`` when the appointment already has an event."""
        await self._tx.execute(calendar_events.insert().values(attrs.asdict(event)))

    async def claim(self, event: CalendarEvent) -> None:
        """Raises ``Conflict`` when any cell of the event's time is claimed already."""
        rows = [
            {"calendar_id": event.calendar_id, "cell": cell, "event_id": event.id}
            for cell in cells(TimeRange(event.starts_at, event.ends_at))
        ]
        await self._tx.execute(calendar_claims.insert(), rows)

    async def for_appointment(self, appointment_id: str) -> CalendarEvent | None:
        row = await self._tx.one_or_none(
            calendar_events.select().where(calendar_events.c.appointment_id == appointment_id)
        )
        return None if row is None else CalendarEvent(**row._mapping)

    async def busy(
        self, calendar_id: str, start: datetime, end: datetime, *, blocked_only: bool = False
    ) -> list[TimeRange]:
        query = (
            sa.select(calendar_events.c.starts_at, calendar_events.c.ends_at)
            .where(
                calendar_events.c.calendar_id == calendar_id,
                calendar_events.c.starts_at < end,
                calendar_events.c.ends_at > start,
                calendar_events.c.cancelled.is_(False),
            )
            .order_by(calendar_events.c.starts_at, calendar_events.c.ends_at)
        )
        if blocked_only:
            query = query.where(calendar_events.c.appointment_id.is_(None))
        rows = (await self._tx.execute(query)).all()
        return [TimeRange(r.starts_at, r.ends_at) for r in rows]

    async def cancel(self, calendar_id: str, appointment_id: str, *, at: datetime) -> None:
        """Marks the event cancelled (a new revision for subscribers) and frees its time."""
        ids = sa.select(calendar_events.c.id).where(
            calendar_events.c.calendar_id == calendar_id,
            calendar_events.c.appointment_id == appointment_id,
            calendar_events.c.cancelled.is_(False),
        )
        event_id = (await self._tx.execute(ids)).scalar_one_or_none()
        if event_id is None:
            return
        await self._tx.execute(
            calendar_claims.delete().where(calendar_claims.c.event_id == event_id)
        )
        await self._tx.execute(
            calendar_events.update()
            .where(calendar_events.c.id == event_id)
            .values(
                cancelled=True,
                sequence=calendar_events.c.sequence + 1,
                updated_at=at,
            )
        )

    async def listed(self, calendar_id: str, since: datetime) -> Sequence[CalendarEvent]:
        """Events ending after ``since``, cancelled ones included, soonest first."""
        rows = (
            await self._tx.execute(
                calendar_events.select()
                .where(
                    calendar_events.c.calendar_id == calendar_id, calendar_events.c.ends_at > since
                )
                .order_by(calendar_events.c.starts_at, calendar_events.c.id)
            )
        ).all()
        return [CalendarEvent(**r._mapping) for r in rows]
