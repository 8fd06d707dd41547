"""The contract every ``Calendar`` passes: the in-memory one, the local calendar on each
database and Outlook against a local server speaking Microsoft Graph.

Subclass ``CalendarContract`` and provide four fixtures: ``calendar`` (fresh and empty),
``calendar_id`` and ``other_calendar_id`` (two calendars it holds), and ``block``: an
async callable that puts busy time in a calendar by hand, the way the business would in
its calendar app, without a booking.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from talia_core.scheduling.errors import SlotTaken
from talia_core.scheduling.model import CalendarBooking, TimeRange
from talia_core.scheduling.ports import Calendar
from talia_core.shared.ids import new_id

Block = Callable[[str, TimeRange], Awaitable[None]]

DAY = datetime(2030, 3, 4, tzinfo=UTC)
"""A Monday far enough ahead that no real calendar treats it as past."""


def at(hour: int, minute: int = 0) -> datetime:
    return DAY + timedelta(hours=hour, minutes=minute)


def a_booking(
    calendar_id: str, start: datetime, minutes: int = 30, *, appointment_id: str | None = None
) -> CalendarBooking:
    return CalendarBooking(
        appointment_id=appointment_id or new_id(),
        calendar_id=calendar_id,
        starts_at=start,
        ends_at=start + timedelta(minutes=minutes),
        summary="Cita con Ana Pérez",
        description="Reservada por WhatsApp",
    )


class CalendarContract:
    async def test_an_empty_calendar_has_no_busy_time(
        self, calendar: Calendar, calendar_id: str
    ) -> None:
        assert list(await calendar.busy(calendar_id, at(0), at(24))) == []

    async def test_a_booking_holds_its_time_and_says_which_event_holds_it(
        self, calendar: Calendar, calendar_id: str
    ) -> None:
        booking = a_booking(calendar_id, at(15))

        entry = await calendar.book(booking)

        assert entry.appointment_id == booking.appointment_id
        assert entry.calendar_id == calendar_id
        assert entry.event_id
        assert (entry.starts_at, entry.ends_at) == (at(15), at(15, 30))
        assert list(await calendar.busy(calendar_id, at(0), at(24))) == [
            TimeRange(at(15), at(15, 30))
        ]

    async def test_times_in_any_zone_are_the_same_instants_in_utc(
        self, calendar: Calendar, calendar_id: str
    ) -> None:
        lima = at(15).astimezone(ZoneInfo("America/Lima"))

        entry = await calendar.book(a_booking(calendar_id, lima))

        assert entry.starts_at == at(15)
        assert entry.starts_at.utcoffset() == timedelta(0)
        [busy] = await calendar.busy(calendar_id, at(0), at(24))
        assert busy.start.utcoffset() == timedelta(0)

    async def test_busy_time_is_what_overlaps_the_window_sorted_and_unclipped(
        self, calendar: Calendar, calendar_id: str
    ) -> None:
        for hour in (17, 9, 13):
            await calendar.book(a_booking(calendar_id, at(hour), 60))

        busy = await calendar.busy(calendar_id, at(9, 30), at(17))

        assert list(busy) == [TimeRange(at(9), at(10)), TimeRange(at(13), at(14))]

    async def test_back_to_back_bookings_do_not_clash(
        self, calendar: Calendar, calendar_id: str
    ) -> None:
        await calendar.book(a_booking(calendar_id, at(10)))
        await calendar.book(a_booking(calendar_id, at(10, 30)))
        await calendar.book(a_booking(calendar_id, at(9, 30)))

        assert len(await calendar.busy(calendar_id, at(0), at(24))) == 3

    async def test_the_same_slot_cannot_be_booked_twice(
        self, calendar: Calendar, calendar_id: str
    ) -> None:
        await calendar.book(a_booking(calendar_id, at(10)))

        with pytest.raises(SlotTaken):
            await calendar.book(a_booking(calendar_id, at(10)))

        assert len(await calendar.busy(calendar_id, at(0), at(24))) == 1

    @pytest.mark.parametrize(
        ("start", "minutes"),
        [((9, 30), 60), ((10, 15), 30), ((10, 0), 5), ((9, 0), 180)],
        ids=["over-the-start", "inside-shifted", "inside-short", "around"],
    )
    async def test_time_that_overlaps_a_booking_of_another_length_is_refused(
        self,
        calendar: Calendar,
        calendar_id: str,
        start: tuple[int, int],
        minutes: int,
    ) -> None:
        await calendar.book(a_booking(calendar_id, at(10), 60))

        with pytest.raises(SlotTaken):
            await calendar.book(a_booking(calendar_id, at(*start), minutes))

    async def test_time_the_business_blocked_by_hand_is_busy_and_cannot_be_booked(
        self, calendar: Calendar, calendar_id: str, block: Block
    ) -> None:
        await block(calendar_id, TimeRange(at(12), at(13)))

        assert list(await calendar.busy(calendar_id, at(0), at(24))) == [TimeRange(at(12), at(13))]
        with pytest.raises(SlotTaken):
            await calendar.book(a_booking(calendar_id, at(12, 30)))

    async def test_booking_the_same_appointment_again_returns_the_same_event(
        self, calendar: Calendar, calendar_id: str
    ) -> None:
        booking = a_booking(calendar_id, at(11))

        first = await calendar.book(booking)
        again = await calendar.book(booking)

        assert again == first
        assert len(await calendar.busy(calendar_id, at(0), at(24))) == 1

    async def test_a_cancelled_booking_frees_its_slot_for_someone_else(
        self, calendar: Calendar, calendar_id: str
    ) -> None:
        booking = a_booking(calendar_id, at(14))
        await calendar.book(booking)

        await calendar.cancel(calendar_id, booking.appointment_id)

        assert list(await calendar.busy(calendar_id, at(0), at(24))) == []
        await calendar.book(a_booking(calendar_id, at(14)))
        assert len(await calendar.busy(calendar_id, at(0), at(24))) == 1

    async def test_cancelling_twice_or_what_was_never_booked_does_nothing(
        self, calendar: Calendar, calendar_id: str
    ) -> None:
        kept = a_booking(calendar_id, at(16))
        gone = a_booking(calendar_id, at(9))
        await calendar.book(kept)
        await calendar.book(gone)

        await calendar.cancel(calendar_id, gone.appointment_id)
        await calendar.cancel(calendar_id, gone.appointment_id)
        await calendar.cancel(calendar_id, new_id())

        assert list(await calendar.busy(calendar_id, at(0), at(24))) == [
            TimeRange(at(16), at(16, 30))
        ]

    async def test_calendars_keep_their_time_apart(
        self, calendar: Calendar, calendar_id: str, other_calendar_id: str
    ) -> None:
        await calendar.book(a_booking(calendar_id, at(10)))
        await calendar.book(a_booking(other_calendar_id, at(10)))

        assert len(await calendar.busy(calendar_id, at(0), at(24))) == 1
        assert len(await calendar.busy(other_calendar_id, at(0), at(24))) == 1

    async def test_of_many_bookings_racing_for_one_slot_exactly_one_wins(
        self, calendar: Calendar, calendar_id: str
    ) -> None:
        racers = [a_booking(calendar_id, at(10)) for _ in range(8)]

        results = await asyncio.gather(*(calendar.book(b) for b in racers), return_exceptions=True)

        won = [r for r in results if not isinstance(r, BaseException)]
        lost = [r for r in results if isinstance(r, BaseException)]
        assert len(won) == 1
        assert all(isinstance(r, SlotTaken) for r in lost)
        assert len(await calendar.busy(calendar_id, at(0), at(24))) == 1
