"""Outlook through Microsoft Graph against a local server speaking Entra ID's token endpoint
and Graph's calendar wire format (``graph_server.FakeOutlookGraph``): the calendar contract,
what goes over the wire, racing and retried bookings, cancelling."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.calendar.outlook import APPOINTMENT_PROPERTY, OutlookCalendar, transaction_id
from talia_core.scheduling.errors import SlotTaken
from talia_core.scheduling.model import CalendarEntry, TimeRange
from tests.contracts.scheduling.calendar_contract import Block, CalendarContract, a_booking, at
from tests.fakeserver import Reply
from tests.integration.calendar.graph_server import (
    CLIENT_ID,
    FRONT_DESK,
    SECRET,
    TENANT,
    FakeOutlookGraph,
)
from tests.integration.calendar.outlook_harness import (
    MAILBOXES,
    MAIN,
    SALES,
    outlook,
    token_for,
)

# ------------------------------------------------------------------------------ contract


class OutlookCalendarTests(CalendarContract):
    @pytest.fixture
    def calendar_id(self) -> str:
        return MAIN

    @pytest.fixture
    def other_calendar_id(self) -> str:
        return SALES

    @pytest.fixture
    def block(self, graph: FakeOutlookGraph) -> Block:
        async def block(calendar_id: str, busy: TimeRange) -> None:
            graph.add_event(MAILBOXES[calendar_id], busy.start, busy.end)

        return block


# ------------------------------------------------------------------------------ the wire


async def test_the_event_carries_the_booking_its_transaction_and_its_appointment(
    calendar: OutlookCalendar, graph: FakeOutlookGraph
) -> None:
    booking = a_booking(MAIN, at(15), 45)

    entry = await calendar.book(booking)

    [event] = graph.events(FRONT_DESK)
    assert entry.event_id == event.id
    assert event.body["subject"] == "Cita con Ana Pérez"
    assert event.body["body"] == {"contentType": "text", "content": "Reservada por WhatsApp"}
    assert event.body["start"] == {"dateTime": "2030-03-04T15:00:00", "timeZone": "UTC"}
    assert event.body["end"] == {"dateTime": "2030-03-04T15:45:00", "timeZone": "UTC"}
    assert event.body["transactionId"] == transaction_id(booking.appointment_id)
    assert event.properties == {APPOINTMENT_PROPERTY: booking.appointment_id}
    assert "isOnlineMeeting" not in event.body
    creates = [
        r for r in graph.graph_requests() if r.method == "POST" and r.path.endswith("/events")
    ]
    assert creates[0].path == f"/v1.0/users/{FRONT_DESK}/events"
    assert creates[0].headers["prefer"] == 'outlook.timezone="UTC"'
    assert creates[0].headers["authorization"] == f"Bearer {graph.tokens[0]}"


def test_the_transaction_id_is_the_same_for_an_appointment_and_differs_between_them() -> None:
    assert transaction_id("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b") == transaction_id(
        "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
    )
    assert transaction_id("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b") != transaction_id(
        "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c"
    )


async def test_a_teams_meeting_is_asked_for_when_the_link_is_wanted(
    client: httpx.AsyncClient, graph: FakeOutlookGraph
) -> None:
    await outlook(client, graph, teams_link=True).book(a_booking(MAIN, at(10)))

    [event] = graph.events(FRONT_DESK)
    assert event.body["isOnlineMeeting"] is True
    assert event.body["onlineMeetingProvider"] == "teamsForBusiness"


async def test_free_busy_is_asked_for_the_mailbox_in_utc(
    calendar: OutlookCalendar, graph: FakeOutlookGraph
) -> None:
    await calendar.busy(MAIN, at(8), at(18))

    [request] = graph.graph_requests()
    assert request.path == f"/v1.0/users/{FRONT_DESK}/calendar/getSchedule"
    assert request.json() == {
        "schedules": [FRONT_DESK],
        "startTime": {"dateTime": "2030-03-04T08:00:00", "timeZone": "UTC"},
        "endTime": {"dateTime": "2030-03-04T18:00:00", "timeZone": "UTC"},
        "availabilityViewInterval": 30,
    }


async def test_tentative_and_away_time_is_busy_free_and_working_elsewhere_is_not(
    calendar: OutlookCalendar, graph: FakeOutlookGraph
) -> None:
    for hour, show_as in ((9, "free"), (10, "tentative"), (11, "oof"), (12, "workingElsewhere")):
        graph.add_event(FRONT_DESK, at(hour), at(hour + 1), show_as=show_as)

    busy = await calendar.busy(MAIN, at(0), at(24))

    assert list(busy) == [TimeRange(at(10), at(11)), TimeRange(at(11), at(12))]


async def test_a_long_window_is_asked_in_pieces_and_an_event_across_them_counts_once(
    calendar: OutlookCalendar, graph: FakeOutlookGraph
) -> None:
    across = graph.add_event(
        FRONT_DESK, at(0) + timedelta(days=61, hours=-1), at(0) + timedelta(days=61, hours=1)
    )
    later = graph.add_event(
        FRONT_DESK, at(0) + timedelta(days=100), at(0) + timedelta(days=100, hours=1)
    )

    busy = await calendar.busy(MAIN, at(0), at(0) + timedelta(days=130))

    assert list(busy) == [TimeRange(across.start, across.end), TimeRange(later.start, later.end)]
    assert len(graph.graph_requests()) == 3


async def test_a_booking_over_time_blocked_in_outlook_makes_no_event(
    calendar: OutlookCalendar, graph: FakeOutlookGraph
) -> None:
    graph.add_event(FRONT_DESK, at(10), at(11), show_as="tentative")

    with pytest.raises(SlotTaken):
        await calendar.book(a_booking(MAIN, at(10, 30)))

    assert len(graph.events(FRONT_DESK)) == 1


# ------------------------------------------------------------------------------ racing processes


async def test_of_bookings_racing_from_many_processes_the_first_event_keeps_the_slot(
    client: httpx.AsyncClient, graph: FakeOutlookGraph
) -> None:
    """Each process takes turns only with itself: all may find the slot free, and Outlook's
    creation order decides."""
    token = token_for(client, graph)
    processes = [outlook(client, graph, token) for _ in range(6)]
    bookings = [a_booking(MAIN, at(10), 30 + 15 * n) for n in range(6)]

    results = await asyncio.gather(
        *(p.book(b) for p, b in zip(processes, bookings, strict=True)), return_exceptions=True
    )

    won = [r for r in results if isinstance(r, CalendarEntry)]
    assert len(won) == 1
    assert all(isinstance(r, SlotTaken) for r in results if r not in won)
    assert len(graph.tokens) == 1
    assert [e.id for e in graph.events(FRONT_DESK)] == [won[0].event_id]


async def test_an_event_entered_by_hand_later_does_not_evict_a_booked_appointment(
    calendar: OutlookCalendar, graph: FakeOutlookGraph
) -> None:
    booking = a_booking(MAIN, at(10))
    first = await calendar.book(booking)
    graph.add_event(FRONT_DESK, at(9), at(12))

    assert await calendar.book(booking) == first
    assert len(graph.events(FRONT_DESK)) == 2


async def test_the_later_of_two_overlapping_appointments_gives_way_when_booked_again(
    calendar: OutlookCalendar, graph: FakeOutlookGraph
) -> None:
    """A process that lost a race and could not delete its event: the next attempt does."""
    kept = await calendar.book(a_booking(MAIN, at(10)))
    loser = a_booking(MAIN, at(10, 15))
    stale = graph.add_event(FRONT_DESK, loser.starts_at, loser.ends_at)
    stale.properties[APPOINTMENT_PROPERTY] = loser.appointment_id

    with pytest.raises(SlotTaken):
        await calendar.book(loser)

    assert [e.id for e in graph.events(FRONT_DESK)] == [kept.event_id]


# ------------------------------------------------------------------------------ retried creates


async def test_a_create_whose_answer_was_lost_is_found_again_and_not_made_twice(
    graph: FakeOutlookGraph,
) -> None:
    async with httpx.AsyncClient(timeout=0.5) as impatient:
        calendar = outlook(impatient, graph)
        booking = a_booking(MAIN, at(11))
        graph.after_creating_answer(Reply(stall=True))

        entry = await calendar.book(booking)
        again = await calendar.book(booking)

    [event] = graph.events(FRONT_DESK)
    assert entry.event_id == event.id
    assert again == entry


async def test_a_create_that_failed_after_graph_made_the_event_keeps_that_event(
    calendar: OutlookCalendar, graph: FakeOutlookGraph
) -> None:
    graph.after_creating_answer(Reply(504, {"error": {"code": "UnknownError", "message": ""}}))

    entry = await calendar.book(a_booking(MAIN, at(11)))

    [event] = graph.events(FRONT_DESK)
    assert entry.event_id == event.id


async def test_graph_answers_a_repeated_transaction_with_the_event_it_made(
    client: httpx.AsyncClient, graph: FakeOutlookGraph
) -> None:
    """Two processes that both missed the other's event still make one: the second create
    carries the same transactionId."""
    token = token_for(client, graph)
    booking = a_booking(MAIN, at(11))
    first = await outlook(client, graph, token).book(booking)
    # Another process, whose lookup and free/busy check ran before the first create landed:
    # only the transactionId stands between it and a second event.
    graph.answer_next(Reply(200, {"value": []}))
    graph.answer_next(Reply(200, {"value": [{"scheduleId": FRONT_DESK, "scheduleItems": []}]}))

    second = await outlook(client, graph, token).book(booking)

    assert second == first
    assert len(graph.events(FRONT_DESK)) == 1


# ------------------------------------------------------------------------------ cancelling


async def test_cancelling_deletes_the_appointments_event_only(
    calendar: OutlookCalendar, graph: FakeOutlookGraph
) -> None:
    kept = graph.add_event(FRONT_DESK, at(9), at(10))
    booking = a_booking(MAIN, at(15))
    entry = await calendar.book(booking)

    await calendar.cancel(MAIN, booking.appointment_id)

    assert graph.events(FRONT_DESK) == [kept]
    [delete] = [r for r in graph.graph_requests() if r.method == "DELETE"]
    assert delete.path.endswith(f"/events/{entry.event_id.replace('=', '%3D')}")


# ------------------------------------------------------------------------------ invariants

hours = st.integers(0, 24 * 200)
# Just before a 61-day piece ends, when the window starts within the first few hours.
near_a_piece_end = st.sampled_from([61 * 24, 122 * 24, 183 * 24]).flatmap(
    lambda end: st.integers(end - 30, end + 3)
)


@settings(max_examples=30, deadline=None)
@given(
    events=st.lists(
        st.tuples(st.one_of(hours, near_a_piece_end), st.integers(15, 24 * 60 * 3)), max_size=8
    ),
    window=st.tuples(st.one_of(st.integers(0, 3), hours), st.integers(1, 24 * 200)),
)
async def test_busy_time_over_any_window_is_every_overlapping_event_once(
    events: list[tuple[int, int]], window: tuple[int, int]
) -> None:
    """However many 61-day pieces the window takes, each event overlapping it comes once."""
    graph = FakeOutlookGraph(
        tenant_id=TENANT, client_id=CLIENT_ID, client_secret=SECRET, mailboxes=(FRONT_DESK,)
    )
    await graph.start()
    try:
        ranges = [
            TimeRange(at(0) + timedelta(hours=h), at(0) + timedelta(hours=h, minutes=m))
            for h, m in events
        ]
        for r in ranges:
            graph.add_event(FRONT_DESK, r.start, r.end)
        asked = TimeRange(
            at(0) + timedelta(hours=window[0]), at(0) + timedelta(hours=window[0] + window[1])
        )
        async with httpx.AsyncClient(timeout=5.0) as client:
            busy = await outlook(client, graph).busy(MAIN, asked.start, asked.end)
    finally:
        await graph.close()

    expected = sorted((r for r in ranges if r.overlaps(asked)), key=lambda r: (r.start, r.end))
    assert list(busy) == expected
