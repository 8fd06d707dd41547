"""Clicks on short URLs tallied in the worker and written together, over the in-memory
database: none lost at a flush, at the app's end, or when a write fails."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from functools import partial

import pytest
from litestar import Litestar

from adapters.memory.database import InMemoryDatabase
from adapters.memory.unit_of_work import InMemoryUnitOfWork
from entrypoints.http.short_links import ClickTally
from talia_core.invitations.model import Allowances, Invitation, InvitationStatus
from talia_core.invitations.public import PublicInvitations, ShortUrl
from talia_core.shared.clock import FakeClock
from talia_core.shared.errors import NotFound

T0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
CODE = "Tally123"


class Seconds:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def _world() -> tuple[PublicInvitations, InMemoryDatabase, Invitation]:
    database = InMemoryDatabase()
    invitation = Invitation.bought(
        owner_id="owner-1",
        order_id=None,
        order_item=None,
        template_id=None,
        plan_id=None,
        allowances=Allowances(),
        at=T0,
    )
    invitation.slug, invitation.status = "ana-y-luis", InvitationStatus.PUBLISHED
    async with InMemoryUnitOfWork(database) as uow:
        await uow.invitations.add_if_absent(invitation)
        await uow.short_urls.add(ShortUrl(CODE, invitation.id, T0))
        await uow.commit()
    return (
        PublicInvitations(partial(InMemoryUnitOfWork, database), FakeClock()),
        database,
        invitation,
    )


async def _clicks(database: InMemoryDatabase, invitation: Invitation) -> int:
    async with InMemoryUnitOfWork(database, read_only=True) as uow:
        [short_url] = await uow.short_urls.of_invitation(invitation.id)
    return short_url.clicks


async def test_clicks_are_written_together_at_the_flush() -> None:
    public, database, invitation = await _world()
    tally = ClickTally(lambda: public, flush_seconds=1, ttl=2)

    slugs = [await tally.follow(CODE) for _ in range(5)]

    assert set(slugs) == {"ana-y-luis"}
    assert await _clicks(database, invitation) == 0
    await tally.flush()
    assert await _clicks(database, invitation) == 5
    await tally.flush()
    assert await _clicks(database, invitation) == 5


async def test_the_app_ending_writes_what_was_tallied() -> None:
    public, database, invitation = await _world()
    tally = ClickTally(lambda: public, flush_seconds=60, ttl=2)

    async with tally.running(Litestar()):
        await tally.follow(CODE)
        await tally.follow(CODE)

    assert await _clicks(database, invitation) == 2


async def test_where_a_code_leads_is_kept_for_its_time_and_an_unknown_code_is_not_found() -> None:
    public, database, invitation = await _world()
    seconds = Seconds()
    tally = ClickTally(lambda: public, flush_seconds=1, ttl=2, now=seconds)
    await tally.follow(CODE)
    async with InMemoryUnitOfWork(database) as uow:
        invitation.slug = "ana-y-luis-2027"
        await uow.invitations.update(invitation)
        await uow.commit()

    assert await tally.follow(CODE) == "ana-y-luis"
    seconds.now = 2.5
    assert await tally.follow(CODE) == "ana-y-luis-2027"
    with pytest.raises(NotFound):
        await tally.follow("Unknown1")


class Failing:
    """Public invitations whose writes fail until told otherwise."""

    def __init__(self, public: PublicInvitations) -> None:
        self.public = public
        self.down = True

    async def target(self, code: str) -> str:
        return await self.public.target(code)

    async def count_clicks(self, clicks: dict[str, int]) -> None:
        if self.down:
            raise ConnectionError("database down")
        await self.public.count_clicks(clicks)


async def test_clicks_whose_write_failed_are_written_at_the_next_flush() -> None:
    public, database, invitation = await _world()
    failing = Failing(public)
    tally = ClickTally(lambda: failing, flush_seconds=1, ttl=2)  # type: ignore[arg-type, return-value]
    await tally.follow(CODE)
    await tally.follow(CODE)

    await tally.flush()
    failing.down = False
    await tally.follow(CODE)
    await tally.flush()

    assert await _clicks(database, invitation) == 3


async def test_without_a_flush_interval_each_click_is_written_in_its_request() -> None:
    public, database, invitation = await _world()
    tally = ClickTally(lambda: public, flush_seconds=0, ttl=2)

    await tally.follow(CODE)

    assert await _clicks(database, invitation) == 1


class Slow:
    """Public invitations whose reads of a target count and wait until released."""

    def __init__(self, public: PublicInvitations) -> None:
        self.public = public
        self.reads = 0
        self.release = asyncio.Event()

    async def target(self, code: str) -> str:
        self.reads += 1
        await self.release.wait()
        return await self.public.target(code)


async def test_guests_following_a_code_at_once_cost_one_read_of_where_it_leads() -> None:
    public, _, _ = await _world()
    slow = Slow(public)
    tally = ClickTally(lambda: slow, flush_seconds=1, ttl=2)  # type: ignore[arg-type, return-value]

    following = [asyncio.create_task(tally.follow(code)) for code in [CODE] * 20 + ["Unknown1"]]
    await asyncio.sleep(0)
    slow.release.set()
    answered = await asyncio.gather(*following, return_exceptions=True)

    assert answered[:20] == ["ana-y-luis"] * 20
    assert isinstance(answered[20], NotFound)
    assert slow.reads == 2
