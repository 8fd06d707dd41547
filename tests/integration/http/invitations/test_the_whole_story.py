"""The whole story of an invitation, on SQLite, PostgreSQL and MariaDB: bought and paid in
the sandbox, made from ``order.paid`` by the worker, filled in, given photos kept on an FTP
server (pyftpdlib) and made into renditions by the worker, published, shortened, opened by a
guest from the short link in Chromium on a phone with JavaScript off, answered, and found
by the owner in the CSV of answers.

The app is served by uvicorn as ``talia serve`` runs it, with jobs left to a worker: the
test is that worker, running the due jobs (the outbox relay's deliveries, the media jobs)
when the story needs them, through a container of its own on the same database and store.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, expect

from tests.api import Api, open_api, settings_for_tests
from tests.contracts.media.image_processor import photo
from tests.e2e.test_invitation_page_in_chromium import PHONE, answer_for_two
from tests.e2e.test_widget_in_chromium import browser, chromium, serving
from tests.ftp_server import PASSWORD, USER, ftp_server
from tests.integration.http.invitations.test_invitations_flow import bought_and_paid, run_jobs

__all__ = ["browser", "chromium"]  # the browser tests' fixtures, used here too


@pytest.fixture
async def shop(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Api]:
    """The served app (``shop.client`` calls it over HTTP) and the worker's container."""
    with ftp_server(tmp_path / "ftp") as server:
        ftp = {
            "provider": "ftp",
            "ftp_host": "127.0.0.1",
            "ftp_port": server.port,
            "ftp_user": USER,
            "ftp_password": PASSWORD,
        }
        # ``serving`` keeps media in a local folder; the environment moves them to the FTP
        # server, as it does for a deployment.
        for name, value in ftp.items():
            monkeypatch.setenv(f"TALIA_STORAGE__{name.upper()}", str(value))
        jobs = {"run_in_process": False}
        served = serving(tmp_path / "app", database={"url": database_url}, jobs=jobs)
        worker = open_api(settings_for_tests(database_url, storage=ftp, jobs=jobs))
        async with (
            served as base_url,
            worker as opened,
            httpx.AsyncClient(base_url=base_url, timeout=30) as client,
        ):
            yield Api(client, opened.container)


async def test_bought_paid_filled_in_illustrated_published_shortened_opened_and_answered(
    shop: Api, browser: Browser, tmp_path: Path
) -> None:
    # A customer buys a template on a plan and pays; the sandbox's signed IPN marks the order
    # paid, and the worker relays ``order.paid`` to the invitations, which make one.
    base = str(shop.client.base_url).rstrip("/")
    _, customer, order = await bought_and_paid(shop)
    await run_jobs(shop)
    [invitation] = (await shop.client.get("/api/invitations", headers=customer)).json()["items"]
    assert (invitation["order_id"], invitation["status"]) == (order["id"], "draft")
    url = f"/api/invitations/{invitation['id']}"

    # The owner fills in the names and the day, and the events.
    data = {"partner_one": "Ana", "partner_two": "Luis", "date": "2027-02-14"}
    saved = await shop.client.put(f"{url}/data", json=data, headers=customer)
    assert saved.status_code == 200, saved.text
    for kind, hour, venue in (("Ceremonia", "16", "Parroquia"), ("Fiesta", "20", "Hacienda")):
        event = {
            "type": kind,
            "starts_at": f"2027-02-14T{hour}:00:00-05:00",
            "time_zone": "America/Lima",
            "venue": venue,
        }
        added = await shop.client.post(f"{url}/events", json=event, headers=customer)
        assert added.status_code == 201, added.text

    # Photos go to the FTP server; the worker makes their renditions there.
    for role, size in (("cover", (1200, 800)), ("photo", (640, 960))):
        uploaded = await shop.client.post(
            f"{url}/media",
            files={"file": (f"{role}.jpg", photo(*size), "image/jpeg")},
            data={"role": role},
            headers=customer,
        )
        assert uploaded.status_code == 202, uploaded.text
    await run_jobs(shop)
    media = (await shop.client.get(f"{url}/media", headers=customer)).json()
    assert [(m["role"], m["status"]) for m in media] == [("cover", "ready"), ("photo", "ready")]
    kept = {path.name for path in (tmp_path / "ftp").rglob("*") if path.is_file()}
    assert {r["file_name"] for m in media for r in m["renditions"]} <= kept

    # Published under a slug of the owner's choosing, shortened under a code of theirs.
    published = await shop.client.post(
        f"{url}/publish", json={"slug": "ana-y-luis"}, headers=customer
    )
    assert published.status_code == 200, published.text
    short = await shop.client.post(f"{url}/urls", json={"slug": "ana-luis"}, headers=customer)
    assert short.status_code == 201, short.text
    assert short.json()["url"] == f"{base}/r/ana-luis"

    # A guest opens the short link on a phone, sees the photos and answers.
    context = await browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, java_script_enabled=False
    )
    page = await context.new_page()
    opened = await page.goto(short.json()["url"])
    assert opened is not None
    assert opened.status == 200
    assert page.url == f"{base}/i/ana-y-luis"
    await expect(page.get_by_test_id("names")).to_have_text("Ana & Luis")
    await expect(page.get_by_test_id("event")).to_have_count(2)
    images = page.locator("main img")
    await expect(images).to_have_count(2)  # the cover, and the photo's thumbnail
    for image in await images.all():
        await image.scroll_into_view_if_needed()
        assert await image.evaluate("img => img.complete && img.naturalWidth") > 0

    await answer_for_two(page)
    await expect(page.get_by_test_id("rsvp-ok")).to_be_visible()
    await context.close()

    # The owner downloads the answers and finds the guest's.
    answers = await shop.client.get(f"{url}/responses", params={"format": "csv"}, headers=customer)
    assert answers.status_code == 200, answers.text
    [row] = list(csv.DictReader(io.StringIO(answers.text)))
    assert "Rosa Díaz" in " ".join(row.values())
    assert "rosa@example.com" in row.values()
