"""The page kept in the worker's memory over the real app on SQLite, PostgreSQL and MariaDB:
its version read back from each database tells an unchanged invitation (still 304) from an
edited one, and unpublishing ends it, once the cache time has passed twice at most."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from talia_core.identity.model import Role
from tests.api import Api, open_api, settings_for_tests

CACHE_SECONDS = 0.05


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    settings = settings_for_tests(database_url, invitation_pages={"cache_seconds": CACHE_SECONDS})
    async with open_api(settings) as opened:
        yield opened


async def _past_twice_the_cache_time() -> None:
    await asyncio.sleep(2 * CACHE_SECONDS + 0.01)


async def test_a_kept_page_follows_its_invitation_on_every_database(api: Api) -> None:
    _, admin = await api.user(Role.ADMIN)
    owner_id, owner = await api.user()
    made = await api.client.post("/api/invitations", json={"owner_id": owner_id}, headers=admin)
    url = f"/api/invitations/{made.json()['id']}"
    data = {"partner_one": "Ana", "partner_two": "Luis", "date": "2027-02-14"}
    assert (await api.client.put(f"{url}/data", json=data, headers=owner)).status_code == 200
    slug = (await api.client.post(f"{url}/publish", headers=owner)).json()["slug"]
    page = f"/i/{slug}"
    etag = (await api.client.get(page)).headers["etag"]

    await _past_twice_the_cache_time()
    unchanged = await api.client.get(page, headers={"If-None-Match": etag})
    edited = await api.client.patch(
        url, json={"data": {"message": "¡Los esperamos!"}}, headers=owner
    )
    assert edited.status_code == 200, edited.text
    await _past_twice_the_cache_time()
    fresh = await api.client.get(page, headers={"If-None-Match": etag})
    assert (await api.client.post(f"{url}/unpublish", headers=owner)).status_code == 200
    await _past_twice_the_cache_time()
    gone = await api.client.get(page)

    assert unchanged.status_code == 304
    assert fresh.status_code == 200
    assert "¡Los esperamos!" in fresh.text
    assert fresh.headers["etag"] != etag
    assert gone.status_code == 404
