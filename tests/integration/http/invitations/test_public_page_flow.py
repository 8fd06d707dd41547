"""A guest's way in through the real app on SQLite, PostgreSQL and MariaDB: a short URL
followed by many guests at once (each click counted), one under a code of the owner's
choosing, the page with its escaped names, the JSON, the calendar, and the 404 page once
the invitation is taken down."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from talia_core.identity.model import Role
from tests.api import Api, assert_problem, open_api, settings_for_tests
from tests.shop import plan

GUESTS = 30


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    """The app reading the invitation on every page request, writing each click in its
    request."""
    settings = settings_for_tests(
        database_url, invitation_pages={"cache_seconds": 0, "click_flush_seconds": 0}
    )
    async with open_api(settings) as opened:
        yield opened


async def test_guests_follow_the_short_url_to_the_page_and_every_click_is_counted(
    api: Api,
) -> None:
    _, admin = await api.user(Role.ADMIN)
    owner_id, owner = await api.user()
    made = await api.client.post("/api/invitations", json={"owner_id": owner_id}, headers=admin)
    url = f"/api/invitations/{made.json()['id']}"
    data = {"partner_one": "<script>alert(1)</script>", "partner_two": "Luis", "date": "2027-02-14"}
    assert (await api.client.put(f"{url}/data", json=data, headers=owner)).status_code == 200
    event = {
        "type": "Fiesta",
        "starts_at": "2027-02-14T20:00:00-05:00",
        "time_zone": "America/Lima",
    }
    assert (await api.client.post(f"{url}/events", json=event, headers=owner)).status_code == 201
    slug = (await api.client.post(f"{url}/publish", headers=owner)).json()["slug"]
    code = (await api.client.post(f"{url}/urls", headers=owner)).json()["code"]

    followed = await asyncio.gather(*(api.client.get(f"/r/{code}") for _ in range(GUESTS)))

    assert {(r.status_code, r.headers["location"]) for r in followed} == {(302, f"/i/{slug}")}
    [short_url] = (await api.client.get(f"{url}/urls", headers=owner)).json()
    assert short_url["clicks"] == GUESTS
    page = await api.client.get(f"/i/{slug}")
    assert page.status_code == 200
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Luis" in page.text
    public = (await api.client.get(f"/api/public/invitations/{slug}")).json()
    assert public["events"][0]["starts_at"] == "2027-02-14T20:00:00-05:00"
    ics = await api.client.get(f"/i/{slug}/events.ics")
    assert "DTSTART;TZID=America/Lima:20270214T200000" in ics.text

    assert (await api.client.post(f"{url}/unpublish", headers=owner)).status_code == 200
    gone = await api.client.get(f"/i/{slug}")
    assert gone.status_code == 404
    assert "text/html" in gone.headers["content-type"]
    assert_problem(await api.client.get(f"/api/public/invitations/{slug}"), 404)


async def test_a_chosen_code_is_held_once_case_and_all_and_leads_to_the_page(api: Api) -> None:
    _, admin = await api.user(Role.ADMIN)
    plan_id = await plan(api, admin, allowances={"custom_slug": True})
    urls = []
    for names in (("Ana", "Luis"), ("Rosa", "Juan")):
        owner_id, owner = await api.user()
        body = {"owner_id": owner_id, "plan_id": plan_id}
        made = await api.client.post("/api/invitations", json=body, headers=admin)
        url = f"/api/invitations/{made.json()['id']}"
        data = {"partner_one": names[0], "partner_two": names[1], "date": "2027-02-14"}
        assert (await api.client.put(f"{url}/data", json=data, headers=owner)).status_code == 200
        assert (await api.client.post(f"{url}/publish", headers=owner)).status_code == 200
        urls.append((f"{url}/urls", owner))
    (first, first_owner), (second, second_owner) = urls

    chosen = await api.client.post(first, json={"slug": "boda-2027"}, headers=first_owner)
    taken = await api.client.post(second, json={"slug": "Boda-2027"}, headers=second_owner)
    reserved = await api.client.post(second, json={"slug": "admin"}, headers=second_owner)
    malformed = await api.client.post(second, json={"slug": "boda 2027"}, headers=second_owner)

    assert chosen.status_code == 201, chosen.text
    assert chosen.json()["code"] == "boda-2027"
    assert_problem(taken, 409)
    assert_problem(reserved, 409)
    assert_problem(malformed, 422, "slug")
    assert (await api.client.get(second, headers=second_owner)).json() == []
    slug = (await api.client.get(first.removesuffix("/urls"), headers=first_owner)).json()["slug"]
    followed = await api.client.get("/r/boda-2027")
    assert (followed.status_code, followed.headers["location"]) == (302, f"/i/{slug}")
    assert_problem(await api.client.get("/r/BODA-2027"), 404)
