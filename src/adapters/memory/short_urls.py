"""In-memory short URLs of invitations, keyed by their code."""

from __future__ import annotations

from collections.abc import Callable

import attrs

from adapters.memory.database import State
from talia_core.invitations.model import Invitation
from talia_core.invitations.public import ShortUrl
from talia_core.shared.errors import Conflict


class InMemoryShortUrlRepository:
    def __init__(self, state: Callable[[], State]) -> None:
        self._state = state

    @property
    def _rows(self) -> dict[str, ShortUrl]:
        return self._state().table("short_urls")

    async def add(self, short_url: ShortUrl) -> None:
        if short_url.code in self._rows:
            raise Conflict(f"the short URL {short_url.code!r} already exists")
        self._rows[short_url.code] = short_url

    async def of_invitation(self, invitation_id: str) -> list[ShortUrl]:
        found = [s for s in self._rows.values() if s.invitation_id == invitation_id]
        return sorted(found, key=lambda s: (s.created_at, s.code), reverse=True)

    async def target(self, code: str) -> str | None:
        short_url = self._rows.get(code)
        if short_url is None:
            return None
        invitation: Invitation | None = (
            self._state().table("invitations").get(short_url.invitation_id)
        )
        return invitation.slug if invitation is not None else None

    async def count(self, code: str, clicks: int) -> None:
        short_url = self._rows.get(code)
        if short_url is not None:
            self._rows[code] = attrs.evolve(short_url, clicks=short_url.clicks + clicks)
