"""The worker's kept pages: guests opening a link at once cost one read of the invitation,
and a page is rendered again only when the invitation or its media changed."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from entrypoints.http.public_invitations import InvitationPages, Media, _Page
from talia_core.invitations.media import Gallery
from talia_core.invitations.model import Allowances, Invitation
from talia_core.shared.errors import NotFound

T0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
KEY = ("ana-y-luis", "https://talia.example", None, None)
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
    return invitation


class Reads:
    """A loader that counts its reads and lets them finish when told."""

    def __init__(self, invitation: Invitation) -> None:
        self.invitation = invitation
        self.count = 0
        self.release = asyncio.Event()

    async def __call__(self) -> tuple[Invitation, Media]:
        self.count += 1
        await self.release.wait()
        return self.invitation, NO_MEDIA


class Seconds:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_guests_opening_the_page_at_once_cost_one_read() -> None:
    pages = InvitationPages(ttl=2)
    reads = Reads(_invitation())

    waiting = [asyncio.create_task(pages.get(KEY, reads)) for _ in range(20)]
    await asyncio.sleep(0)
    reads.release.set()
    answered = await asyncio.gather(*waiting)

    assert reads.count == 1
    assert len({page.etag for page in answered}) == 1


async def test_a_page_is_read_again_after_its_time_and_rendered_again_only_when_changed() -> None:
    seconds = Seconds()
    pages = InvitationPages(ttl=2, now=seconds)
    invitation = _invitation()
    reads = Reads(invitation)
    reads.release.set()
    first = await pages.get(KEY, reads)

    seconds.now = 3
    unchanged = await _after_its_load(pages, reads)
    invitation.data = {**invitation.data, "message": "¡Los esperamos!"}
    invitation.updated_at = T0 + timedelta(minutes=1)
    seconds.now = 6
    stale = await pages.get(KEY, reads)
    await _settled(pages)
    changed = await pages.get(KEY, reads)

    assert reads.count == 3
    assert unchanged.ok is first.ok  # the same rendered response, checked again
    assert stale.etag == first.etag  # answered while the invitation was being read
    assert changed.etag != first.etag


async def _settled(pages: InvitationPages) -> None:
    """The loads started in the background have finished."""
    await asyncio.gather(*pages._loading.values(), return_exceptions=True)


async def _after_its_load(pages: InvitationPages, reads: Reads) -> _Page:
    """The page once the load a stale page started has finished."""
    await pages.get(KEY, reads)
    await _settled(pages)
    return await pages.get(KEY, reads)


async def test_a_page_found_gone_in_the_background_is_dropped() -> None:
    seconds = Seconds()
    pages = InvitationPages(ttl=2, now=seconds)
    reads = Reads(_invitation())
    reads.release.set()
    await pages.get(KEY, reads)

    async def unpublished() -> tuple[Invitation, Media]:
        raise NotFound("invitation", "ana-y-luis")

    seconds.now = 3
    await pages.get(KEY, unpublished)  # the kept page, while it is read again
    await _settled(pages)
    with pytest.raises(NotFound):
        await pages.get(KEY, unpublished)


async def test_a_failed_load_reaches_every_waiter_and_is_not_kept() -> None:
    pages = InvitationPages(ttl=2)

    async def missing() -> tuple[Invitation, Media]:
        raise NotFound("invitation", "ana-y-luis")

    with pytest.raises(NotFound):
        await pages.get(KEY, missing)
    reads = Reads(_invitation())
    reads.release.set()
    await pages.get(KEY, reads)
    assert reads.count == 1
