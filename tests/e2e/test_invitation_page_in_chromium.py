"""A guest opens an invitation's short link on a phone and answers, in Debian's Chromium
driven headless by Playwright against the real app (served as in the widget's test). The
form is sent with JavaScript switched off: it must work without it. A screenshot of the
answered page is kept as an artifact (its path is printed)."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from entrypoints.seed import DEMO_ADMIN, DEMO_PASSWORD
from tests.e2e.test_widget_in_chromium import browser, chromium, serving

__all__ = ["browser", "chromium"]  # the widget test's fixtures, used here too

PHONE = {"width": 390, "height": 844}
OWNER_PASSWORD = "lirios-y-rosas-2026"
NAMES = {"partner_one": "Ana <b>María</b>", "partner_two": "Luis", "date": "2027-02-14"}


@pytest.fixture(scope="module")
async def base_url(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    async with serving(tmp_path_factory.mktemp("invitation-e2e")) as url:
        yield url


async def _signed_in(client: httpx.AsyncClient, email: str, password: str) -> dict[str, str]:
    login = await client.post("/api/auth/login", json={"email": email, "password": password})
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


async def published_invitation(client: httpx.AsyncClient) -> tuple[dict[str, str], dict[str, Any]]:
    """An owner's headers and their invitation, filled in, published and shortened."""
    admin = await _signed_in(client, DEMO_ADMIN, DEMO_PASSWORD)
    body = {"email": "owner@example.com", "password": OWNER_PASSWORD, "name": "Ana"}
    registered = await client.post("/api/auth/register", json=body)
    assert registered.status_code == 202, registered.text
    owner = await _signed_in(client, body["email"], OWNER_PASSWORD)
    me = (await client.get("/api/auth/me", headers=owner)).json()
    made = await client.post("/api/invitations", json={"owner_id": me["id"]}, headers=admin)
    assert made.status_code == 201, made.text
    url = f"/api/invitations/{made.json()['id']}"
    data = {**NAMES, "message": "¡Te esperamos!"}
    assert (await client.put(f"{url}/data", json=data, headers=owner)).status_code == 200
    event = {
        "type": "Ceremonia",
        "starts_at": "2027-02-14T16:00:00-05:00",
        "time_zone": "America/Lima",
        "venue": "Hacienda Los Ficus",
        "map_url": "https://maps.example/ficus",
    }
    assert (await client.post(f"{url}/events", json=event, headers=owner)).status_code == 201
    published = await client.post(f"{url}/publish", headers=owner)
    assert published.status_code == 200, published.text
    short = await client.post(f"{url}/urls", headers=owner)
    assert short.status_code == 201, short.text
    return owner, {**published.json(), "short_url": short.json()["url"]}


async def answer_for_two(page: Page) -> None:
    """Rosa says yes for two with the page's form (``rosa@example.com``), and sends it."""
    form = page.get_by_test_id("rsvp-form")
    await form.get_by_label("Sí").check()
    await form.get_by_label("Personas").fill("2")
    await form.get_by_label("Nombre").fill("Rosa Díaz, Pedro Díaz")
    await form.get_by_label("Correo o teléfono").fill("rosa@example.com")
    await form.get_by_label("Mensaje").fill("¡Allí estaremos!")
    await form.get_by_role("button").click()


async def test_a_guest_opens_the_short_link_on_a_phone_and_answers_without_javascript(
    browser: Browser, base_url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        owner, invitation = await published_invitation(client)
        slug = invitation["slug"]
        context = await browser.new_context(
            viewport=PHONE, is_mobile=True, has_touch=True, java_script_enabled=False
        )
        page = await context.new_page()

        opened = await page.goto(invitation["short_url"])

        assert opened is not None
        assert opened.status == 200
        assert page.url == f"{base_url}/i/{slug}"
        await expect(page.get_by_test_id("names")).to_have_text("Ana <b>María</b> & Luis")
        await expect(page.get_by_test_id("event")).to_contain_text("Hacienda Los Ficus")
        await expect(page.get_by_test_id("event")).to_contain_text("14/02/2027 16:00")
        og = page.locator('meta[property="og:title"]')
        assert await og.get_attribute("content") == "Ana <b>María</b> & Luis"
        og_url = await page.locator('meta[property="og:url"]').get_attribute("content")
        assert og_url == f"{base_url}/i/{slug}"
        assert await page.locator('meta[property="og:description"]').count() == 1
        ics = await page.get_by_test_id("ics").get_attribute("href")
        assert ics == f"/i/{slug}/events.ics"
        # Nothing is laid out wider than the phone.
        assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

        await answer_for_two(page)

        await expect(page.get_by_test_id("rsvp-ok")).to_be_visible()
        assert page.url == f"{base_url}/i/{slug}?rsvp=ok"
        artifacts = tmp_path_factory.mktemp("artifacts")
        screenshot = artifacts / "invitation-answered.png"
        await page.screenshot(path=str(screenshot), full_page=True)
        print(f"screenshot: {screenshot}")
        await context.close()
        assert screenshot.exists()

        responses = await client.get(
            f"/api/invitations/{invitation['id']}/responses",
            params={"format": "csv"},
            headers=owner,
        )
    assert responses.status_code == 200, responses.text
    rows = list(csv.DictReader(io.StringIO(responses.text)))
    assert len(rows) == 1, rows
    answered = " ".join(rows[0].values())
    assert "Rosa Díaz" in answered
    assert "rosa@example.com" in answered
