"""An invitation's media: uploaded, ordered and deleted by its owner, served to guests.

An upload is checked before anything is stored (a kind told from the bytes, the plan's size
and count, one audio track); the original file, the item and its processing job are then
kept together: the file first, deleted again when the transaction does not commit. The
invitation is read locked, so two uploads at once cannot both take the plan's last place.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable

import attrs

from talia_core.invitations import media_jobs
from talia_core.invitations.media import (
    Gallery,
    MediaItem,
    MediaRole,
    MediaStatus,
    admit,
    arrange,
)
from talia_core.invitations.media_ports import InvitationMediaUnitOfWork
from talia_core.invitations.services import Caller, owned
from talia_core.shared.clock import Clock
from talia_core.shared.errors import NotFound
from talia_core.shared.files import FileStore
from talia_core.shared.ports import UnitOfWorkFactory


@attrs.frozen
class PublicFile:
    """A file as guests get it; ``file_name`` is unique to its bytes (their ETag)."""

    file_name: str
    mime_type: str
    content: bytes = attrs.field(repr=False)


class InvitationMediaService:
    """``wake`` tells the job queue that processing was just committed."""

    def __init__(
        self,
        uow: UnitOfWorkFactory[InvitationMediaUnitOfWork],
        files: FileStore,
        clock: Clock,
        *,
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self._uow = uow
        self._files = files
        self._clock = clock
        self._wake = wake

    async def upload(
        self, caller: Caller, invitation_id: str, content: bytes, *, role: MediaRole | None
    ) -> MediaItem:
        """A new item, last in order: an image ``processing`` (a job makes its renditions),
        audio ``ready``. A new cover makes the earlier one a photo."""
        now = self._clock.now()
        async with self._uow() as uow:
            invitation = await owned(uow, caller, invitation_id)
            items = await uow.invitation_media.of_invitation(invitation.id)
            found, chosen = admit(items, invitation.allowances, content, role)
            item = MediaItem.uploaded(
                invitation.id, found, chosen, content, position=len(items), at=now
            )
            await self._files.put(item.original_key, content, item.mime_type)
            try:
                if chosen is MediaRole.COVER:
                    for earlier in items:
                        if earlier.role is MediaRole.COVER:
                            earlier.role, earlier.updated_at = MediaRole.PHOTO, now
                            await uow.invitation_media.update(earlier)
                await uow.invitation_media.add(item)
                if item.status is MediaStatus.PROCESSING:
                    await uow.jobs.add(media_jobs.processing(item.id, now))
                    await uow.jobs.schedule(media_jobs.settling(now))
                await uow.commit()
            except BaseException:
                await self._files.delete(item.original_key)
                raise
        self._wake()
        return item

    async def list(self, caller: Caller, invitation_id: str) -> builtins.list[MediaItem]:
        """In their order, whatever their status."""
        async with self._uow(read_only=True) as uow:
            invitation = await owned(uow, caller, invitation_id)
            return await uow.invitation_media.of_invitation(invitation.id)

    async def get(self, caller: Caller, invitation_id: str, media_id: str) -> MediaItem:
        async with self._uow(read_only=True) as uow:
            return await _own_item(uow, caller, invitation_id, media_id)

    async def revise(
        self,
        caller: Caller,
        invitation_id: str,
        media_id: str,
        *,
        position: int | None = None,
        role: MediaRole | None = None,
    ) -> MediaItem:
        """Move the item among the others, or make an image the cover (the earlier cover
        becomes a photo) or a photo again."""
        async with self._uow() as uow:
            item = await _own_item(uow, caller, invitation_id, media_id)
            items = await uow.invitation_media.of_invitation(item.invitation_id)
            changed = arrange(items, item, position=position, role=role, at=self._clock.now())
            for each in changed:
                await uow.invitation_media.update(each)
            await uow.commit()
        return next(i for i in items if i.id == media_id)

    async def delete(self, caller: Caller, invitation_id: str, media_id: str) -> None:
        """The item goes at once, the others close up; then its files."""
        now = self._clock.now()
        async with self._uow() as uow:
            item = await _own_item(uow, caller, invitation_id, media_id)
            await uow.invitation_media.remove(item.id)
            rest = await uow.invitation_media.of_invitation(item.invitation_id)
            for place, each in enumerate(rest):
                if each.position != place:
                    each.position, each.updated_at = place, now
                    await uow.invitation_media.update(each)
            await uow.commit()
        for key in item.keys:
            await self._files.delete(key)

    async def gallery(self, invitation_id: str) -> Gallery:
        """The invitation's ready media, for its public page: no owner is asked for, so the
        caller shows it only for a published invitation."""
        async with self._uow(read_only=True) as uow:
            return Gallery.of(await uow.invitation_media.of_invitation(invitation_id))

    async def public_file(self, file_name: str, *, read: bool = True) -> PublicFile:
        """A ready item's file by its name, while its invitation is published; ``NotFound``
        otherwise, as for a name nobody holds. Without ``read`` its bytes are not fetched
        (the client holds them: its name is their hash)."""
        async with self._uow(read_only=True) as uow:
            item = await uow.invitation_media.published(file_name, self._clock.now())
        if item is None:
            raise NotFound("media file", file_name)
        rendition = item.rendition(file_name)
        if not read:
            return PublicFile(file_name, rendition.mime_type, b"")
        download = await self._files.get(item.key_of(file_name))
        return PublicFile(file_name, rendition.mime_type, download.content)


async def _own_item(
    uow: InvitationMediaUnitOfWork, caller: Caller, invitation_id: str, media_id: str
) -> MediaItem:
    """The item when it is the invitation's and the caller may see the invitation."""
    invitation = await owned(uow, caller, invitation_id)
    item = await uow.invitation_media.get(media_id)
    if item.invitation_id != invitation.id:
        raise NotFound("media", media_id)
    return item
