"""What an invitation's media needs from storage."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from talia_core.invitations.media import MediaItem
from talia_core.invitations.ports import InvitationsUnitOfWork
from talia_core.shared.jobs import JobsUnitOfWork


class MediaRepository(Protocol):
    async def add(self, item: MediaItem) -> None: ...

    async def get(self, media_id: str) -> MediaItem:
        """Raises ``NotFound``; locks the item in a writing unit."""
        ...

    async def update(self, item: MediaItem) -> None: ...

    async def remove(self, media_id: str) -> None:
        """Raises ``NotFound``."""
        ...

    async def of_invitation(self, invitation_id: str) -> list[MediaItem]:
        """In their order."""
        ...

    async def published(self, file_name: str, now: datetime) -> MediaItem | None:
        """The item serving ``file_name`` when its invitation is published and not expired
        at ``now``."""
        ...

    async def processing(self, limit: int) -> Sequence[MediaItem]:
        """Items still waiting for their renditions, oldest first."""
        ...


class InvitationMediaUnitOfWork(InvitationsUnitOfWork, JobsUnitOfWork, Protocol):
    @property
    def invitation_media(self) -> MediaRepository: ...
