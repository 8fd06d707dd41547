"""The worker's kept pages: guests opening a link at once cost one read of the invitation,
a page is rendered again only when the invitation or its media changed, and what guests
must stop seeing stops within the bounds the cache promises."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from entrypoints.http.public_invitations import InvitationPages, Media, PageKey, _Page
from talia_core.invitations.media import Gallery
from talia_core.invitations.model import Allowances, Invitation, InvitationStatus
from talia_core.invitations.public import InvitationExpired, shown
from talia_core.shared.clock import FakeClock
from talia_core.shared.errors import NotFound

T0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
KEY: PageKey = ("ana-y-luis", "https://talia.example", None, None)
NO_MEDIA = Media.of(Gallery(cover=None, photos=(), audio=None))


def _invitation() -> Invitation:
    invitation = Invitation.bought(
        owner_id="owner-1",
        order_id=None,
        order_item=None,
        template_id=None,
        plan_id=None,
        allowances=Allowances(),
        at=T0,
    )
    invitation.slug = "ana-y-luis"
    invitation.data = {"partner_one": "Ana", "partner_two": "Luis", "date": "2027-02-14"}
    invitation.status = InvitationStatus.PUBLISHED
    invitation.expires_at = T0 + timedelta(days=30)
    return invitation


class Reads:
    """The invitation as the use case reads it (``NotFound`` unpublished, ``InvitationExpired``
    past its time), counting its reads; each read finishes when ``release`` is set."""

    def __init__(self, invitation: Invitation, clock: FakeClock) -> None:
        self.invitation = invitation
        self.clock = clock
        self.count = 0
        self.release = asyncio.Event()

    async def __call__(self, slug: str) -> tuple[Invitation, Media]:
        self.count += 1
        await self.release.wait()
        return shown(self.invitation, slug, self.clock.now()), NO_MEDIA


class Seconds:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _pages(reads: Reads, seconds: Seconds | None = None) -> InvitationPages:
    return InvitationPages(ttl=2, read=reads, clock=reads.clock, now=seconds or Seconds())


async def _settled(pages: InvitationPages) -> None:
    """The reads started in the background have finished."""
    await asyncio.gather(*pages._loading.values(), return_exceptions=True)


async def _after_its_read(pages: InvitationPages) -> _Page:
    """The page once the read a stale page started has finished."""
    await pages.get(KEY)
    await _settled(pages)
    return await pages.get(KEY)


async def test_guests_opening_the_page_at_once_cost_one_read() -> None:
    reads = Reads(_invitation(), FakeClock(T0))
    pages = _pages(reads)

    waiting = [asyncio.create_task(pages.get(KEY)) for _ in range(20)]
    await asyncio.sleep(0)
    reads.release.set()
    answered = await asyncio.gather(*waiting)

    assert reads.count == 1
    assert len({page.etag for page in answered}) == 1


async def test_a_page_is_read_again_after_its_time_and_rendered_again_only_when_changed() -> None:
    seconds = Seconds()
    invitation = _invitation()
    reads = Reads(invitation, FakeClock(T0))
    pages = _pages(reads, seconds)
    reads.release.set()
    first = await pages.get(KEY)

    seconds.now = 1.9
    held = await pages.get(KEY)
    seconds.now = 3
    unchanged = await _after_its_read(pages)
    invitation.data = {**invitation.data, "message": "¡Los esperamos!"}
    invitation.updated_at = T0 + timedelta(minutes=1)
    seconds.now = 6
    stale = await pages.get(KEY)
    await _settled(pages)
    changed = await pages.get(KEY)

    assert reads.count == 3
    assert held is first
    assert unchanged.ok is first.ok  # the same rendered response, checked again
    assert stale.etag == first.etag  # answered while the invitation was being read
    assert changed.etag != first.etag


async def test_a_slow_read_holds_the_kept_page_for_one_more_ttl_then_guests_wait_for_it() -> None:
    seconds = Seconds()
    invitation = _invitation()
    reads = Reads(invitation, FakeClock(T0))
    pages = _pages(reads, seconds)
    reads.release.set()
    first = await pages.get(KEY)
    reads.release.clear()  # the database is slow from now on

    invitation.status = InvitationStatus.UNPUBLISHED
    seconds.now = 2.5
    during_the_read = await pages.get(KEY)
    seconds.now = 4.5
    waiting = asyncio.create_task(pages.get(KEY))
    await asyncio.sleep(0)
    assert not waiting.done()
    reads.release.set()

    assert during_the_read is first
    with pytest.raises(NotFound):
        await waiting
    assert reads.count == 2  # the guest who waited shared the read already running


async def test_a_page_found_gone_in_the_background_is_dropped() -> None:
    seconds = Seconds()
    invitation = _invitation()
    reads = Reads(invitation, FakeClock(T0))
    pages = _pages(reads, seconds)
    reads.release.set()
    await pages.get(KEY)

    invitation.status = InvitationStatus.UNPUBLISHED
    seconds.now = 3
    await pages.get(KEY)  # the kept page, while it is read again
    await _settled(pages)

    with pytest.raises(NotFound):
        await pages.get(KEY)


async def test_a_kept_page_ends_at_the_invitations_time_not_at_its_next_read() -> None:
    clock = FakeClock(T0)
    invitation = _invitation()
    reads = Reads(invitation, clock)
    pages = InvitationPages(ttl=300, read=reads, clock=clock, now=Seconds())
    reads.release.set()
    await pages.get(KEY)
    assert invitation.expires_at is not None

    clock.current = invitation.expires_at - timedelta(seconds=1)
    await pages.get(KEY)
    clock.current = invitation.expires_at

    with pytest.raises(InvitationExpired):
        await pages.get(KEY)
    assert reads.count == 2


async def test_a_failed_read_reaches_every_waiter_and_is_not_kept() -> None:
    invitation = _invitation()
    invitation.status = InvitationStatus.UNPUBLISHED
    reads = Reads(invitation, FakeClock(T0))
    pages = _pages(reads)

    waiting = [asyncio.create_task(pages.get(KEY)) for _ in range(3)]
    await asyncio.sleep(0)
    reads.release.set()
    failed = await asyncio.gather(*waiting, return_exceptions=True)
    invitation.status = InvitationStatus.PUBLISHED
    page = await pages.get(KEY)

    assert all(isinstance(error, NotFound) for error in failed)
    assert page.ok.status_code == 200
    assert reads.count == 2
