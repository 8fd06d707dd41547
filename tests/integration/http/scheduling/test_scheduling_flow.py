"""Scheduling end to end through the real app, on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import icalendar
import pytest

from talia_core.identity.model import Role
from talia_core.shared.clock import FakeClock
from tests.api import Api, assert_problem, open_api, settings_for_tests
from tests.unit.scheduling.builders import NOW
from tests.unit.scheduling.test_slots import lima


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    async with open_api(settings_for_tests(database_url), clock=FakeClock(NOW)) as opened:
        yield opened


def window(day: int) -> dict[str, str]:
    return {"from": lima(day, 0).isoformat(), "to": lima(day + 1, 0).isoformat()}


async def test_a_booked_slot_leaves_availability_and_shows_in_the_list_and_the_feed(
    api: Api,
) -> None:
    _, staff = await api.user(Role.AGENT)
    offered = await api.client.get("/api/availability", params={**window(3), "tz": "Europe/Madrid"})
    assert offered.status_code == 200, offered.text
    slots = offered.json()["slots"]
    assert len(slots) == 18
    assert slots[0]["local_starts_at"].endswith("+01:00")

    booked = await api.client.post(
        "/api/appointments",
        json={"starts_at": slots[1]["starts_at"], "customer_name": "Ana Pérez"},
        headers=staff,
    )

    assert booked.status_code == 201, booked.text
    after = (await api.client.get("/api/availability", params=window(3))).json()["slots"]
    assert slots[1]["starts_at"] not in {s["starts_at"] for s in after}
    listed = (await api.client.get("/api/appointments", headers=staff)).json()
    assert [a["id"] for a in listed["items"]] == [booked.json()["id"]]
    url = (await api.client.get("/api/calendars/main/feed-url", headers=staff)).json()["url"]
    feed = await api.client.get(url)
    assert feed.headers["content-type"].startswith("text/calendar")
    [event] = icalendar.Calendar.from_ical(feed.content).walk("VEVENT")
    assert str(event["SUMMARY"]) == "Cita: Ana Pérez"
    assert event.decoded("DTSTART") == lima(3, 9, 30)


async def test_a_cancelled_appointment_frees_its_slot_and_the_feed_marks_it_cancelled(
    api: Api,
) -> None:
    _, staff = await api.user(Role.ADMIN)
    body = {"starts_at": lima(3, 10).isoformat()}
    booked = (await api.client.post("/api/appointments", json=body, headers=staff)).json()

    cancelled = await api.client.delete(f"/api/appointments/{booked['id']}", headers=staff)

    assert cancelled.status_code == 204
    again = await api.client.post("/api/appointments", json=body, headers=staff)
    assert again.status_code == 201, again.text
    url = (await api.client.get("/api/calendars/main/feed-url", headers=staff)).json()["url"]
    events = icalendar.Calendar.from_ical((await api.client.get(url)).content).walk("VEVENT")
    assert sorted(str(e["STATUS"]) for e in events) == ["CANCELLED", "CONFIRMED"]


async def test_ten_customers_racing_for_one_slot_over_http_leave_one_booking(api: Api) -> None:
    _, staff = await api.user(Role.AGENT)
    body = {"starts_at": lima(3, 11).isoformat()}

    responses = await asyncio.gather(
        *(api.client.post("/api/appointments", json=body, headers=staff) for _ in range(10))
    )

    assert sorted(r.status_code for r in responses) == [201] + [409] * 9
    for refused in (r for r in responses if r.status_code == 409):
        assert_problem(refused, 409)


@pytest.mark.parametrize(
    ("starts_at", "rule"),
    [
        (lima(1, 10), "in_the_past"),
        (lima(3, 20), "business_hours"),
        (lima(3, 10, 10), "slot_grid"),
        (lima(3, 10).replace(month=6), "booking_horizon"),
    ],
)
async def test_a_slot_that_breaks_a_rule_is_a_422_naming_it_and_books_nothing(
    api: Api, starts_at: object, rule: str
) -> None:
    _, staff = await api.user(Role.AGENT)

    refused = await api.client.post(
        "/api/appointments", json={"starts_at": str(starts_at).replace(" ", "T")}, headers=staff
    )

    problem = assert_problem(refused, 422, "starts_at")
    assert problem["errors"][0]["message"] == rule
    assert (await api.client.get("/api/appointments", headers=staff)).json()["total"] == 0


async def test_appointments_are_for_the_team_and_the_feed_needs_its_token(api: Api) -> None:
    _, customer = await api.user(Role.CUSTOMER)

    assert_problem(await api.client.get("/api/appointments", headers=customer), 403)
    assert_problem(await api.client.get("/api/calendars/main/feed.ics?token=nope"), 404)


async def test_a_time_without_its_offset_is_refused_naming_the_fields(api: Api) -> None:
    refused = await api.client.get(
        "/api/availability", params={"from": "2026-03-03T00:00", "to": "2026-03-04T00:00"}
    )

    assert_problem(refused, 400, "from", "to")


async def test_a_window_that_ends_before_it_starts_or_an_unknown_zone_is_a_422(api: Api) -> None:
    backwards = {"from": lima(4, 0).isoformat(), "to": lima(3, 0).isoformat()}
    unknown_zone = {**window(3), "tz": "Mars/Olympus"}

    assert_problem(await api.client.get("/api/availability", params=backwards), 422, "to")
    assert_problem(await api.client.get("/api/availability", params=unknown_zone), 422, "tz")
