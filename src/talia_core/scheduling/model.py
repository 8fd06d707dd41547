"""Appointments, the time ranges calendars speak of, and what a calendar is asked to hold."""

from __future__ import annotations

import enum
from datetime import UTC, datetime

import attrs

from talia_core.shared.errors import Conflict, RuleViolated
from talia_core.shared.ids import new_id
from talia_core.shared.text import optional_text


def utc(field: str, value: datetime) -> datetime:
    """``value`` in UTC; a naive datetime names no instant and is refused."""
    if value.tzinfo is UTC:
        return value
    if value.tzinfo is None or value.utcoffset() is None:
        raise RuleViolated(f"{field} must carry a time zone", {field: "naive datetime"})
    return value.astimezone(UTC)


@attrs.frozen
class TimeRange:
    """The half-open interval ``[start, end)`` in UTC."""

    start: datetime
    end: datetime

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "start", utc("start", self.start))
        object.__setattr__(self, "end", utc("end", self.end))
        if self.end <= self.start:
            raise RuleViolated("a time range must end after it starts", {"end": "not after start"})

    def overlaps(self, other: TimeRange) -> bool:
        return self.start < other.end and other.start < self.end


@attrs.frozen
class CalendarBooking:
    """What a calendar is asked to hold for one appointment; ``appointment_id`` is its key."""

    appointment_id: str
    calendar_id: str
    starts_at: datetime
    ends_at: datetime
    summary: str
    description: str = ""

    @property
    def range(self) -> TimeRange:
        return TimeRange(self.starts_at, self.ends_at)


@attrs.frozen
class CalendarEntry:
    """The event a calendar holds for an appointment; ``event_id`` is the calendar's own id."""

    appointment_id: str
    calendar_id: str
    event_id: str
    starts_at: datetime
    ends_at: datetime


class AppointmentStatus(enum.StrEnum):
    BOOKED = "booked"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"


@attrs.define
class Appointment:
    """A customer's time in a calendar: booked, confirmed by the customer, or cancelled."""

    calendar_id: str
    starts_at: datetime
    ends_at: datetime
    contact_id: str | None
    customer_name: str | None
    channel: str | None
    note: str | None
    booked_by: str
    created_at: datetime
    status: AppointmentStatus = AppointmentStatus.BOOKED
    event_id: str | None = None
    confirmed_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancelled_by: str | None = None
    id: str = attrs.field(factory=new_id)

    @classmethod
    def book(
        cls,
        *,
        calendar_id: str,
        slot: TimeRange,
        contact_id: str | None,
        customer_name: str | None,
        channel: str | None,
        note: str | None,
        booked_by: str,
        at: datetime,
    ) -> Appointment:
        return cls(
            calendar_id=calendar_id,
            starts_at=slot.start,
            ends_at=slot.end,
            contact_id=contact_id,
            customer_name=optional_text("customer_name", customer_name, 120),
            channel=channel,
            note=optional_text("note", note, 1000),
            booked_by=booked_by,
            created_at=at,
        )

    @property
    def active(self) -> bool:
        return self.status is not AppointmentStatus.CANCELLED

    @property
    def range(self) -> TimeRange:
        return TimeRange(self.starts_at, self.ends_at)

    def confirm(self, *, at: datetime) -> None:
        """Confirming twice keeps the first confirmation; a cancelled one cannot be confirmed."""
        if self.status is AppointmentStatus.CANCELLED:
            raise Conflict("a cancelled appointment cannot be confirmed")
        if self.status is AppointmentStatus.BOOKED:
            self.status = AppointmentStatus.CONFIRMED
            self.confirmed_at = at

    def cancel(self, *, by: str, at: datetime) -> None:
        if self.status is AppointmentStatus.CANCELLED:
            raise Conflict("the appointment is already cancelled")
        self.status = AppointmentStatus.CANCELLED
        self.cancelled_at = at
        self.cancelled_by = by
