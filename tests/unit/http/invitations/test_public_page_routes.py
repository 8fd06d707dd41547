"""The public page, its calendar and JSON, short URLs and their QR code, over the in-memory
fakes: what a guest sees, escaped; what an unpublished or ended invitation answers."""

from __future__ import annotations

import io
import re
import struct
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import icalendar
import pytest
import segno
from PIL import Image

from talia_core.identity.model import Role
from talia_core.shared.clock import FakeClock
from tests.api import Api, assert_problem, open_api, settings_for_tests
from tests.shop import plan

SCRIPT = "<script>alert(1)</script>"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def api(clock: FakeClock) -> AsyncIterator[Api]:
    """Pages read the invitation on every request and clicks are written in theirs:
    changes show at once."""
    settings = settings_for_tests(
        "sqlite+aiosqlite:///:memory:",
        invitation_pages={"cache_seconds": 0, "click_flush_seconds": 0},
    )
    async with open_api(settings, in_memory=True, clock=clock) as opened:
        yield opened


@pytest.fixture
async def caching_api(clock: FakeClock) -> AsyncIterator[Api]:
    settings = settings_for_tests(
        "sqlite+aiosqlite:///:memory:", invitation_pages={"cache_seconds": 300}
    )
    async with open_api(settings, in_memory=True, clock=clock) as opened:
        yield opened


async def published(
    api: Api, data: dict[str, Any] | None = None, *, custom_names: bool = False
) -> tuple[dict[str, str], dict[str, Any]]:
    """An owner's headers and their invitation, filled in with an event and published; on a
    plan that lets the owner choose names with ``custom_names``."""
    _, admin = await api.user(Role.ADMIN)
    owner_id, owner = await api.user()
    body: dict[str, Any] = {"owner_id": owner_id}
    if custom_names:
        body["plan_id"] = await plan(api, admin, allowances={"custom_slug": True})
    made = await api.client.post("/api/invitations", json=body, headers=admin)
    url = f"/api/invitations/{made.json()['id']}"
    body = data or {"partner_one": "Ana", "partner_two": "Luis", "date": "2027-02-14"}
    saved = await api.client.put(f"{url}/data", json=body, headers=owner)
    assert saved.status_code == 200, saved.text
    event = {
        "type": "Ceremonia",
        "starts_at": "2027-02-14T16:00:00-05:00",
        "ends_at": "2027-02-14T17:00:00-05:00",
        "time_zone": "America/Lima",
        "venue": "Hacienda Los Ficus",
        "address": "Av. Los Ficus 123, Lima",
    }
    assert (await api.client.post(f"{url}/events", json=event, headers=owner)).status_code == 201
    done = await api.client.post(f"{url}/publish", headers=owner)
    assert done.status_code == 200, done.text
    return owner, dict(done.json())


def og(html: str, name: str) -> str | None:
    found = re.search(rf'<meta property="og:{name}" content="([^"]*)"', html)
    return found.group(1) if found else None


async def test_the_page_shows_the_invitation_with_its_open_graph_tags_events_and_form(
    api: Api,
) -> None:
    _, invitation = await published(api)
    slug = invitation["slug"]

    page = await api.client.get(f"/i/{slug}")

    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "public, max-age=60"
    html = page.text
    assert og(html, "title") == "Ana &amp; Luis"
    assert og(html, "url") == f"http://talia.test/i/{slug}"
    assert og(html, "description")
    assert "Hacienda Los Ficus" in html
    assert "14/02/2027 16:00" in html  # in the event's own time zone
    assert "https://www.google.com/maps/search/?api=1&amp;query=Hacienda" in html
    assert f'href="/i/{slug}/events.ics"' in html
    assert f'action="/api/public/invitations/{slug}/rsvp"' in html


async def test_a_name_with_markup_is_shown_as_text(api: Api) -> None:
    data = {"partner_one": SCRIPT, "partner_two": '"Luis" <b>', "date": "2027-02-14"}
    _, invitation = await published(api, data)

    html = (await api.client.get(f"/i/{invitation['slug']}")).text

    assert SCRIPT not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>" not in html
    assert (
        og(html, "title") == "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;Luis&#34; &lt;b&gt;"
    )


async def test_an_unchanged_page_answers_304_to_its_etag_and_a_change_gives_a_new_one(
    api: Api, clock: FakeClock
) -> None:
    owner, invitation = await published(api)
    url = f"/i/{invitation['slug']}"
    first = await api.client.get(url)
    etag = first.headers["etag"]

    again = await api.client.get(url, headers={"If-None-Match": etag})
    assert (again.status_code, again.content) == (304, b"")

    clock.advance(timedelta(minutes=1))
    changed = await api.client.patch(
        f"/api/invitations/{invitation['id']}",
        json={"data": {"message": "¡Los esperamos!"}},
        headers=owner,
    )
    assert changed.status_code == 200, changed.text
    fresh = await api.client.get(url, headers={"If-None-Match": etag})
    assert fresh.status_code == 200
    assert fresh.headers["etag"] != etag
    assert "¡Los esperamos!" in fresh.text


async def test_a_page_is_answered_from_memory_for_its_cache_time(caching_api: Api) -> None:
    owner, invitation = await published(caching_api)
    url = f"/i/{invitation['slug']}"
    first = await caching_api.client.get(url)

    off = await caching_api.client.post(
        f"/api/invitations/{invitation['id']}/unpublish", headers=owner
    )
    assert off.status_code == 200
    held = await caching_api.client.get(url)
    other_state = await caching_api.client.get(url, params={"rsvp": "ok"})

    assert (held.status_code, held.headers["etag"]) == (200, first.headers["etag"])
    assert other_state.status_code == 404  # not kept: read, and found unpublished


async def test_the_rsvp_state_in_the_query_is_shown_and_the_guest_token_carried(
    api: Api,
) -> None:
    _, invitation = await published(api)
    url = f"/i/{invitation['slug']}"

    thanked = (await api.client.get(url, params={"rsvp": "ok", "g": "tok-123"})).text
    refused = (await api.client.get(url, params={"rsvp": "no_seats_left"})).text

    assert 'data-testid="rsvp-ok"' in thanked
    assert '<input type="hidden" name="g" value="tok-123">' in thanked
    assert "Ya no quedan lugares disponibles." in refused
    assert 'name="g"' not in refused
    bad = await api.client.get(url, params={"g": '"><script>'})
    assert_problem(bad, 400)


async def test_an_unpublished_invitation_is_404_and_one_past_its_time_is_410(
    api: Api, clock: FakeClock
) -> None:
    owner, invitation = await published(api)
    slug = invitation["slug"]
    missing = await api.client.get("/i/nobody-here")
    assert missing.status_code == 404
    assert "Invitación no encontrada" in missing.text
    assert missing.headers["content-type"].startswith("text/html")

    clock.advance(timedelta(days=366))
    ended = await api.client.get(f"/i/{slug}")
    assert ended.status_code == 410
    assert "Invitación finalizada" in ended.text
    assert_problem(await api.client.get(f"/api/public/invitations/{slug}"), 410)
    assert_problem(await api.client.get(f"/i/{slug}/events.ics"), 410)

    clock.current -= timedelta(days=366)
    off = await api.client.post(f"/api/invitations/{invitation['id']}/unpublish", headers=owner)
    assert off.status_code == 200, off.text
    assert (await api.client.get(f"/i/{slug}")).status_code == 404
    assert_problem(await api.client.get(f"/api/public/invitations/{slug}"), 404)


async def test_the_json_and_the_calendar_hold_what_the_page_shows(api: Api) -> None:
    _, invitation = await published(api)
    slug = invitation["slug"]

    body = (await api.client.get(f"/api/public/invitations/{slug}")).json()
    ics = await api.client.get(f"/i/{slug}/events.ics")

    assert body["title"] == "Ana & Luis"
    assert body["data"]["date"] == "2027-02-14"
    assert [e["starts_at"] for e in body["events"]] == ["2027-02-14T16:00:00-05:00"]
    assert body["rsvp_url"] == f"http://talia.test/api/public/invitations/{slug}/rsvp"
    assert ics.headers["content-type"].startswith("text/calendar")
    [event] = icalendar.Calendar.from_ical(ics.content).walk("VEVENT")
    assert str(event["summary"]) == "Ceremonia · Ana & Luis"
    assert event.decoded("dtstart") == datetime(2027, 2, 14, 21, tzinfo=UTC)
    assert event["dtstart"].params["TZID"] == "America/Lima"
    assert "VTIMEZONE" in ics.text
    assert str(event["location"]) == "Hacienda Los Ficus, Av. Los Ficus 123, Lima"


async def test_a_short_url_leads_to_the_page_counting_each_click(api: Api) -> None:
    owner, invitation = await published(api)
    urls = f"/api/invitations/{invitation['id']}/urls"

    made = await api.client.post(urls, headers=owner)
    assert made.status_code == 201, made.text
    code = made.json()["code"]
    assert re.fullmatch(r"[0-9A-Za-z]{8}", code)
    assert made.json()["url"] == f"http://talia.test/r/{code}"
    for _ in range(3):
        followed = await api.client.get(f"/r/{code}")
        assert followed.status_code == 302
        assert followed.headers["location"] == f"/i/{invitation['slug']}"

    [listed] = (await api.client.get(urls, headers=owner)).json()
    assert (listed["code"], listed["clicks"]) == (code, 3)
    assert_problem(await api.client.get("/r/Nope1234"), 404)
    assert_problem(await api.client.get("/r/abc"), 404)
    assert_problem(await api.client.get("/r/no-such"), 404)
    assert_problem(await api.client.get("/r/no_such"), 400)
    assert_problem(await api.client.get("/r/" + "a" * 17), 400)


async def test_a_short_url_takes_the_code_the_owner_chose_when_the_plan_allows_it(
    api: Api,
) -> None:
    owner, invitation = await published(api, custom_names=True)
    urls = f"/api/invitations/{invitation['id']}/urls"

    made = await api.client.post(urls, json={"slug": " Ana-y-Luis "}, headers=owner)

    assert made.status_code == 201, made.text
    assert made.json()["code"] == "ana-y-luis"
    assert made.json()["url"] == "http://talia.test/r/ana-y-luis"
    followed = await api.client.get("/r/ana-y-luis")
    assert followed.headers["location"] == f"/i/{invitation['slug']}"
    assert_problem(await api.client.get("/r/Ana-y-Luis"), 404)  # codes keep their case
    random = await api.client.post(urls, json={}, headers=owner)
    assert random.status_code == 201, random.text
    assert re.fullmatch(r"[0-9A-Za-z]{8}", random.json()["code"])


@pytest.mark.parametrize(
    ("slug", "status"),
    [
        ("ab", 422),
        ("a" * 17, 400),  # past the schema's bound, as a slug at publishing
        ("ana_luis", 422),
        ("-ana", 422),
        ("ana--luis", 422),
        ("áñ-luis", 422),
        ("", 422),
        ("admin", 409),
        ("rsvp", 409),
        ("ana-y-luis", 409),
    ],
)
async def test_a_chosen_code_that_is_malformed_reserved_or_taken_is_refused_and_nothing_made(
    api: Api, slug: str, status: int
) -> None:
    owner, invitation = await published(api, custom_names=True)
    urls = f"/api/invitations/{invitation['id']}/urls"
    taken = await api.client.post(urls, json={"slug": "ana-y-luis"}, headers=owner)
    assert taken.status_code == 201, taken.text

    refused = await api.client.post(urls, json={"slug": slug}, headers=owner)

    assert_problem(refused, status, "slug" if status != 409 else None)
    assert [u["code"] for u in (await api.client.get(urls, headers=owner)).json()] == ["ana-y-luis"]


async def test_a_chosen_code_needs_a_plan_that_allows_choosing_names(api: Api) -> None:
    owner, invitation = await published(api)
    urls = f"/api/invitations/{invitation['id']}/urls"

    refused = await api.client.post(urls, json={"slug": "ana-y-luis"}, headers=owner)

    assert_problem(refused, 422, "slug")
    assert_problem(await api.client.post(urls, json={"code": "x"}, headers=owner), 400)
    assert (await api.client.get(urls, headers=owner)).json() == []


async def test_short_urls_are_for_the_owner_of_a_published_invitation(api: Api) -> None:
    owner, invitation = await published(api)
    urls = f"/api/invitations/{invitation['id']}/urls"
    _, stranger = await api.user()

    assert_problem(await api.client.post(urls, headers=stranger), 404)
    assert_problem(await api.client.post(urls), 401)
    off = await api.client.post(f"/api/invitations/{invitation['id']}/unpublish", headers=owner)
    assert off.status_code == 200
    assert_problem(await api.client.post(urls, headers=owner), 409)
    assert (await api.client.get(urls, headers=owner)).json() == []


async def test_the_qr_code_is_an_svg_of_the_newest_short_url(api: Api) -> None:
    owner, invitation = await published(api)
    qr = f"/api/invitations/{invitation['id']}/qr.svg"
    assert_problem(await api.client.get(qr, headers=owner), 409)
    await api.client.post(f"/api/invitations/{invitation['id']}/urls", headers=owner)

    svg = await api.client.get(qr, headers=owner)

    assert svg.status_code == 200
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.text.startswith("<svg")
    assert 'class="segno"' in svg.text
    assert svg.headers["cache-control"] == "private, no-cache"


@pytest.mark.parametrize(
    ("query", "accept"),
    [("?format=png", None), ("", "image/png"), ("?format=png", "image/svg+xml")],
)
async def test_the_qr_code_comes_as_a_png_when_asked_by_query_or_accept(
    api: Api, query: str, accept: str | None
) -> None:
    owner, invitation = await published(api)
    urls = f"/api/invitations/{invitation['id']}/urls"
    code = (await api.client.post(urls, headers=owner)).json()["code"]
    headers = {**owner, **({"Accept": accept} if accept else {})}

    png = await api.client.get(f"/api/invitations/{invitation['id']}/qr{query}", headers=headers)

    assert png.status_code == 200, png.text
    assert png.headers["content-type"] == "image/png"
    assert png.headers["cache-control"] == "private, no-cache"
    assert png.content[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png.content[16:24])  # the IHDR chunk
    expected = segno.make(f"http://talia.test/r/{code}", error="m")
    # 8 pixels a module and a quiet zone of 4 modules on each side: version 3 for this URL.
    assert expected.version == 3
    assert (width, height) == (8 * (29 + 2 * 4),) * 2
    image = Image.open(io.BytesIO(png.content)).convert("L")
    assert image.size == (width, height)
    dark = [
        [image.getpixel((8 * (4 + column) + 4, 8 * (4 + row) + 4)) == 0 for column in range(29)]
        for row in range(29)
    ]
    assert dark == [[bool(module) for module in row] for row in expected.matrix]


async def test_the_qr_code_answers_304_to_its_etag_until_a_newer_short_url_replaces_it(
    api: Api, clock: FakeClock
) -> None:
    owner, invitation = await published(api)
    urls = f"/api/invitations/{invitation['id']}/urls"
    qr = f"/api/invitations/{invitation['id']}/qr?format=png"
    await api.client.post(urls, headers=owner)
    first = await api.client.get(qr, headers=owner)
    etag = first.headers["etag"]

    held = await api.client.get(qr, headers={**owner, "If-None-Match": etag})
    svg = await api.client.get(qr.removesuffix("?format=png"), headers=owner)
    clock.advance(timedelta(seconds=1))
    await api.client.post(urls, headers=owner)
    newer = await api.client.get(qr, headers={**owner, "If-None-Match": etag})

    assert (held.status_code, held.content) == (304, b"")
    assert svg.headers["etag"] != etag
    assert newer.status_code == 200
    assert newer.headers["etag"] != etag
    assert newer.content != first.content
    assert_problem(await api.client.get(f"{qr[:-3]}gif", headers=owner), 400)


def _png() -> bytes:
    image = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 120, 90)).save(image, format="PNG")
    return image.getvalue()


async def test_the_cover_is_shown_and_is_the_open_graph_image(api: Api) -> None:
    owner, invitation = await published(api)
    url = f"/i/{invitation['slug']}"
    before = await api.client.get(url)
    assert og(before.text, "image") is None

    uploaded = await api.client.post(
        f"/api/invitations/{invitation['id']}/media",
        files={"file": ("cover.png", _png(), "image/png")},
        data={"role": "cover"},
        headers=owner,
    )
    assert uploaded.status_code == 202, uploaded.text
    runner = api.container.use_cases.job_runner()
    while await runner.run_due(10):
        pass

    html = (await api.client.get(url)).text
    image = og(html, "image")
    assert image is not None
    assert image.startswith("http://talia.test/media/")
    assert image.endswith(".jpg")
    served = await api.client.get(image.removeprefix("http://talia.test"))
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/jpeg"
    cover = (await api.client.get(f"/api/public/invitations/{invitation['slug']}")).json()["cover"]
    assert f"http://talia.test{cover['jpeg']}" == image
