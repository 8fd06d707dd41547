"""In-memory media of invitations, found by their files' names as the SQL tables find them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from adapters.memory.database import InMemoryRepositoryBundle, InMemoryTable, State
from talia_core.invitations.media import MediaItem, MediaStatus
from talia_core.invitations.model import Invitation, InvitationStatus
from talia_core.shared.errors import NotFound


class InMemoryMediaRepository(InMemoryTable[MediaItem]):
    def __init__(self, state: Callable[[], State]) -> None:
        super().__init__(state, "invitation_media", "media")
        self._state = state

    async def remove(self, media_id: str) -> None:
        if self.rows.pop(media_id, None) is None:
            raise NotFound("media", media_id)

    async def of_invitation(self, invitation_id: str) -> list[MediaItem]:
        found = self.matching(lambda i: i.invitation_id == invitation_id)
        return sorted(found, key=lambda i: (i.position, i.created_at, i.id))

    async def published(self, file_name: str, now: datetime) -> MediaItem | None:
        invitations: dict[str, Invitation] = self._state().table("invitations")

        def serving(item: MediaItem) -> bool:
            invitation = invitations.get(item.invitation_id)
            return (
                item.status is MediaStatus.READY
                and any(r.file_name == file_name for r in item.renditions)
                and invitation is not None
                and invitation.status is InvitationStatus.PUBLISHED
                and (invitation.expires_at is None or invitation.expires_at > now)
            )

        return next(iter(sorted(self.matching(serving), key=lambda i: i.id)), None)

    async def processing(self, limit: int) -> Sequence[MediaItem]:
        found = self.matching(lambda i: i.status is MediaStatus.PROCESSING)
        return sorted(found, key=lambda i: (i.created_at, i.id))[:limit]


class InMemoryInvitationMediaRepositories(InMemoryRepositoryBundle):
    invitation_media: InMemoryMediaRepository

    def bind(self, state: Callable[[], State]) -> None:
        self.invitation_media = InMemoryMediaRepository(state)
        super().bind(state)
