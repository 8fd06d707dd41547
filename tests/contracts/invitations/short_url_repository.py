"""The contract of invitations' short URLs: the in-memory fake and SQL on every database run
it (``tests/integration/repositories/invitations``) through ``uow_factory``."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from talia_core.invitations.model import Allowances, Invitation, InvitationStatus
from talia_core.invitations.public import ShortUrl
from talia_core.shared.errors import Conflict
from tests.conftest import UowFactory

T0 = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)
CLICKERS = 40


async def _invitation(uow_factory: UowFactory, slug: str | None = "ana-y-luis") -> Invitation:
    invitation = Invitation.bought(
        owner_id="owner-1",
        order_id=None,
        order_item=None,
        template_id=None,
        plan_id=None,
        allowances=Allowances(),
        at=T0,
    )
    invitation.slug = slug
    invitation.status = InvitationStatus.PUBLISHED if slug else InvitationStatus.DRAFT
    async with uow_factory() as uow:
        await uow.invitations.add_if_absent(invitation)
        await uow.commit()
    return invitation


async def _shorten(uow_factory: UowFactory, *short_urls: ShortUrl) -> None:
    async with uow_factory() as uow:
        for short_url in short_urls:
            await uow.short_urls.add(short_url)
        await uow.commit()


async def _follow(uow_factory: UowFactory, code: str) -> str | None:
    """Where the code leads, its click counted, as a guest's request does it."""
    async with uow_factory() as uow:
        slug = await uow.short_urls.target(code)
        if slug is not None:
            await uow.short_urls.count(code, 1)
        await uow.commit()
    return slug


class ShortUrlRepositoryContract:
    async def test_short_urls_are_listed_newest_first_with_their_clicks(
        self, uow_factory: UowFactory
    ) -> None:
        invitation = await _invitation(uow_factory)
        older = ShortUrl("Abc12345", invitation.id, T0)
        newer = ShortUrl("Xyz67890", invitation.id, T0 + timedelta(seconds=1))
        await _shorten(uow_factory, older, newer)

        assert await _follow(uow_factory, "Abc12345") == "ana-y-luis"

        async with uow_factory(read_only=True) as uow:
            listed = await uow.short_urls.of_invitation(invitation.id)
            assert await uow.short_urls.of_invitation("someone-else") == []
        assert [(s.code, s.clicks, s.created_at) for s in listed] == [
            ("Xyz67890", 0, newer.created_at),
            ("Abc12345", 1, T0),
        ]

    async def test_a_code_is_held_once_and_codes_differing_by_case_are_two(
        self, uow_factory: UowFactory
    ) -> None:
        invitation = await _invitation(uow_factory)
        await _shorten(uow_factory, ShortUrl("abcdefgh", invitation.id, T0))

        with pytest.raises(Conflict):
            await _shorten(uow_factory, ShortUrl("abcdefgh", invitation.id, T0))
        await _shorten(uow_factory, ShortUrl("ABCDEFGH", invitation.id, T0))

        await _follow(uow_factory, "ABCDEFGH")
        async with uow_factory(read_only=True) as uow:
            listed = await uow.short_urls.of_invitation(invitation.id)
        assert sorted((s.code, s.clicks) for s in listed) == [("ABCDEFGH", 1), ("abcdefgh", 0)]

    async def test_an_unknown_code_or_an_invitation_without_slug_leads_nowhere(
        self, uow_factory: UowFactory
    ) -> None:
        draft = await _invitation(uow_factory, slug=None)
        await _shorten(uow_factory, ShortUrl("Draft123", draft.id, T0))

        assert await _follow(uow_factory, "Nowhere1") is None
        assert await _follow(uow_factory, "Draft123") is None
        async with uow_factory(read_only=True) as uow:
            [short_url] = await uow.short_urls.of_invitation(draft.id)
        assert short_url.clicks == 0

    async def test_clicks_counted_together_are_added_and_an_unknown_code_counts_nothing(
        self, uow_factory: UowFactory
    ) -> None:
        invitation = await _invitation(uow_factory)
        await _shorten(uow_factory, ShortUrl("Batch123", invitation.id, T0))

        for clicks in (5, 7):
            async with uow_factory() as uow:
                await uow.short_urls.count("Batch123", clicks)
                await uow.short_urls.count("Unknown1", clicks)
                await uow.commit()

        async with uow_factory(read_only=True) as uow:
            [short_url] = await uow.short_urls.of_invitation(invitation.id)
            assert await uow.short_urls.target("Unknown1") is None
        assert short_url.clicks == 12

    async def test_concurrent_clicks_are_each_counted_once(self, uow_factory: UowFactory) -> None:
        invitation = await _invitation(uow_factory)
        await _shorten(uow_factory, ShortUrl("Concur12", invitation.id, T0))

        slugs = await asyncio.gather(*(_follow(uow_factory, "Concur12") for _ in range(CLICKERS)))

        assert set(slugs) == {"ana-y-luis"}
        async with uow_factory(read_only=True) as uow:
            [short_url] = await uow.short_urls.of_invitation(invitation.id)
        assert short_url.clicks == CLICKERS
