"""What guests see: a published invitation read by its slug, and short URLs that lead to it
(printed on cards, sent by WhatsApp) counting their clicks and nothing about who clicked."""

from __future__ import annotations

import secrets
import string
from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

import attrs

from talia_core.invitations.model import Invitation, InvitationStatus, custom_slug
from talia_core.invitations.ports import InvitationsUnitOfWork
from talia_core.invitations.services import Caller, owned
from talia_core.shared.clock import Clock
from talia_core.shared.errors import Conflict, NotFound, RuleViolated, TaliaError
from talia_core.shared.ports import UnitOfWorkFactory

BASE62 = string.digits + string.ascii_letters
CODE_LENGTH = 8
"""62**8 ≈ 2.2e14 codes: a clash is improbable enough that its unique key refusing one (409)
is the whole handling."""
CODE_MAX = 16
"""The longest code of the owner's choosing (a slug's rules otherwise); the column's width."""


class InvitationExpired(TaliaError):
    """The invitation was published, and its time on the web is over."""


def new_code() -> str:
    return "".join(secrets.choice(BASE62) for _ in range(CODE_LENGTH))


@attrs.frozen
class ShortUrl:
    code: str
    invitation_id: str
    created_at: datetime
    clicks: int = 0


class ShortUrlRepository(Protocol):
    async def add(self, short_url: ShortUrl) -> None:
        """Raises ``Conflict`` when the code is taken (its unique key)."""
        ...

    async def of_invitation(self, invitation_id: str) -> list[ShortUrl]:
        """Newest first."""
        ...

    async def target(self, code: str) -> str | None:
        """The slug of the code's invitation; ``None`` for an unknown code or an invitation
        without a slug."""
        ...

    async def count(self, code: str, clicks: int) -> None:
        """Add ``clicks`` to the code's count: an increment in the store, never a read then
        a write, so concurrent counts all land. An unknown code counts nothing."""
        ...


class PublicInvitationsUnitOfWork(InvitationsUnitOfWork, Protocol):
    @property
    def short_urls(self) -> ShortUrlRepository: ...


def shown(invitation: Invitation | None, slug: str, now: datetime) -> Invitation:
    """The invitation when guests may see it: published and not past its time."""
    if invitation is None or invitation.status is not InvitationStatus.PUBLISHED:
        raise NotFound("invitation", slug)
    if invitation.expires_at is not None and invitation.expires_at <= now:
        raise InvitationExpired(f"the invitation {slug!r} is no longer published")
    return invitation


class PublicInvitations:
    def __init__(self, uow: UnitOfWorkFactory[PublicInvitationsUnitOfWork], clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def page(self, slug: str) -> Invitation:
        """``NotFound`` when unpublished (or never was), ``InvitationExpired`` past its time."""
        async with self._uow(read_only=True) as uow:
            found = await uow.invitations.of_slug(slug)
        return shown(found, slug, self._clock.now())

    async def shorten(
        self, caller: Caller, invitation_id: str, *, code: str | None = None
    ) -> ShortUrl:
        """A new short URL of the caller's published invitation, under ``code`` when the
        plan lets the owner choose names (checked as a slug, reserved words refused), a
        random one otherwise. ``Conflict`` when the code is taken."""
        async with self._uow() as uow:
            invitation = await owned(uow, caller, invitation_id)
            if invitation.status is not InvitationStatus.PUBLISHED:
                raise Conflict("only a published invitation gets short URLs")
            if code is not None and not invitation.allowances.custom_slug:
                raise RuleViolated("the plan does not allow choosing the code", {"slug": "plan"})
            chosen = new_code() if code is None else custom_slug(code, longest=CODE_MAX)
            short_url = ShortUrl(chosen, invitation.id, self._clock.now())
            await uow.short_urls.add(short_url)
            await uow.commit()
        return short_url

    async def short_urls(self, caller: Caller, invitation_id: str) -> list[ShortUrl]:
        """Newest first, with their clicks."""
        async with self._uow(read_only=True) as uow:
            invitation = await owned(uow, caller, invitation_id)
            return await uow.short_urls.of_invitation(invitation.id)

    async def follow(self, code: str) -> str:
        """The slug the code leads to, its click counted in the same transaction."""
        async with self._uow() as uow:
            slug = await _target(uow, code)
            await uow.short_urls.count(code, 1)
            await uow.commit()
        return slug

    async def target(self, code: str) -> str:
        """The slug the code leads to; the caller counts the click (``count_clicks``)."""
        async with self._uow(read_only=True) as uow:
            return await _target(uow, code)

    async def count_clicks(self, clicks: Mapping[str, int]) -> None:
        """Clicks counted elsewhere, by code, added in one transaction."""
        async with self._uow() as uow:
            for code, count in sorted(clicks.items()):  # one order: no deadlock between workers
                await uow.short_urls.count(code, count)
            await uow.commit()


async def _target(uow: PublicInvitationsUnitOfWork, code: str) -> str:
    slug = await uow.short_urls.target(code)
    if slug is None:
        raise NotFound("short URL", code)
    return slug
