"""The public page answered from the worker's memory, over the in-memory fakes: an edit and
unpublishing reach guests once the cache time has passed twice at most, the end of an
invitation's time at once, and the ETag keeps answering 304 from the kept page."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest

from talia_core.shared.clock import FakeClock
from tests.api import Api, open_api, settings_for_tests
from tests.unit.http.invitations.test_public_page_routes import published

CACHE_SECONDS = 0.05


async def _caching(seconds: float, clock: FakeClock) -> AsyncIterator[Api]:
    settings = settings_for_tests(
        "sqlite+aiosqlite:///:memory:", invitation_pages={"cache_seconds": seconds}
    )
    async with open_api(settings, in_memory=True, clock=clock) as opened:
        yield opened


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def briefly(clock: FakeClock) -> AsyncIterator[Api]:
    """Pages kept for ``CACHE_SECONDS``."""
    async for api in _caching(CACHE_SECONDS, clock):
        yield api


@pytest.fixture
async def for_long(clock: FakeClock) -> AsyncIterator[Api]:
    """Pages kept for five minutes."""
    async for api in _caching(300, clock):
        yield api


async def _past_twice_the_cache_time() -> None:
    await asyncio.sleep(2 * CACHE_SECONDS + 0.01)


async def test_an_edit_reaches_guests_once_twice_the_cache_time_has_passed(
    briefly: Api, clock: FakeClock
) -> None:
    owner, invitation = await published(briefly)
    url = f"/i/{invitation['slug']}"
    first = await briefly.client.get(url)

    clock.advance(timedelta(minutes=1))
    changed = await briefly.client.patch(
        f"/api/invitations/{invitation['id']}",
        json={"data": {"message": "¡Los esperamos!"}},
        headers=owner,
    )
    assert changed.status_code == 200, changed.text
    await _past_twice_the_cache_time()
    fresh = await briefly.client.get(url, headers={"If-None-Match": first.headers["etag"]})
    held = await briefly.client.get(url, headers={"If-None-Match": fresh.headers["etag"]})

    assert fresh.status_code == 200
    assert "¡Los esperamos!" in fresh.text
    assert (held.status_code, held.content) == (304, b"")


async def test_unpublishing_reaches_guests_once_twice_the_cache_time_has_passed(
    briefly: Api,
) -> None:
    owner, invitation = await published(briefly)
    url = f"/i/{invitation['slug']}"
    assert (await briefly.client.get(url)).status_code == 200

    off = await briefly.client.post(f"/api/invitations/{invitation['id']}/unpublish", headers=owner)
    assert off.status_code == 200, off.text
    await _past_twice_the_cache_time()
    gone = await briefly.client.get(url)

    assert gone.status_code == 404
    assert "Invitación no encontrada" in gone.text


async def test_a_kept_page_ends_at_the_invitations_time_whatever_the_cache_time(
    for_long: Api, clock: FakeClock
) -> None:
    _, invitation = await published(for_long)
    url = f"/i/{invitation['slug']}"
    first = await for_long.client.get(url)
    expires_at = datetime.fromisoformat(invitation["expires_at"])

    clock.current = expires_at - timedelta(seconds=1)
    before = await for_long.client.get(url, headers={"If-None-Match": first.headers["etag"]})
    clock.current = expires_at
    after = await for_long.client.get(url, headers={"If-None-Match": first.headers["etag"]})

    assert before.status_code == 304
    assert after.status_code == 410
    assert "Invitación finalizada" in after.text
