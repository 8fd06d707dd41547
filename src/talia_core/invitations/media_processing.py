"""The worker's side of an invitation's media: an uploaded image made into renditions.

Each image has one processing job (``media_jobs.processing``). It reads the original, has the
``ImageProcessor`` make the renditions (upright, no metadata, display and thumbnail in WebP
and JPEG), stores them and marks the item ready in one transaction; an image the processor
refuses (not an image after all, corrupt, a decompression bomb) fails with the reason. Files
are stored outside any transaction: when the item was deleted meanwhile they are deleted
again. A store that is down makes the job try again later; an item whose job gave up for
good is failed by the sweep (``settle``), so every item settles.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from talia_core.invitations import media_jobs
from talia_core.invitations.media import MediaItem, MediaStatus
from talia_core.invitations.media_ports import InvitationMediaUnitOfWork
from talia_core.shared.clock import Clock
from talia_core.shared.errors import NotFound
from talia_core.shared.files import FileStore
from talia_core.shared.jobs import JobHandler, JobStatus
from talia_core.shared.media import ImageProcessor, MediaTooLarge, NotMedia, ProcessedImage
from talia_core.shared.ports import UnitOfWorkFactory

logger = logging.getLogger("talia.invitations")

STUCK_REASON = "its processing stopped before it finished"
SETTLE_BATCH = 100
"""The most items one sweep looks at; the next sweep takes the rest."""


class MediaProcessing:
    def __init__(
        self,
        uow: UnitOfWorkFactory[InvitationMediaUnitOfWork],
        files: FileStore,
        processor: ImageProcessor,
        clock: Clock,
        *,
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self._uow = uow
        self._files = files
        self._processor = processor
        self._clock = clock
        self._wake = wake

    def job_handlers(self) -> dict[str, JobHandler]:
        """What the job runner calls for each kind of job this part records."""

        async def process(payload: Mapping[str, Any]) -> None:
            await self.process(str(payload["media_id"]))

        async def settle(payload: Mapping[str, Any]) -> None:
            await self.settle()

        async def purge(payload: Mapping[str, Any]) -> None:
            await self.purge([str(key) for key in payload["keys"]])

        return {
            media_jobs.PROCESS_JOB: process,
            media_jobs.SETTLE_JOB: settle,
            media_jobs.PURGE_JOB: purge,
        }

    async def process(self, media_id: str) -> MediaItem | None:
        """Bring the image to ready or failed; None when it is gone or already settled."""
        item = await self._waiting(media_id)
        if item is None:
            return None
        try:
            download = await self._files.get(item.original_key)
            image = await self._processor.process(download.content)
        except NotFound:
            return await self._settle(item, None, "its original file is missing")
        except (NotMedia, MediaTooLarge) as refused:
            return await self._settle(item, None, refused.detail)
        for rendition in image.renditions:
            await self._files.put(
                item.key_of(rendition.file_name), rendition.content, rendition.format.mime_type
            )
        return await self._settle(item, image, None)

    async def purge(self, keys: list[str]) -> None:
        """Delete the files of a deleted invitation; those already gone are skipped, so a
        purge that failed midway is run again whole."""
        for key in keys:
            await self._files.delete(key)

    async def settle(self) -> int:
        """Fail the images whose processing job gave up (dead) or is missing; while others
        are still waiting, look again later. How many were failed."""
        failed = 0
        async with self._uow() as uow:
            now = self._clock.now()
            waiting = await uow.invitation_media.processing(SETTLE_BATCH)
            for item in waiting:
                try:
                    job = await uow.jobs.get(media_jobs.processing_id(item.id))
                except NotFound:
                    job = None
                if job is None or job.status is JobStatus.DEAD:
                    item.fail(STUCK_REASON, at=now)
                    await uow.invitation_media.update(item)
                    failed += 1
            if len(waiting) > failed:
                await uow.jobs.schedule(media_jobs.settling(now))
            await uow.commit()
        if failed:
            logger.warning("%d images failed: their processing stopped for good", failed)
        return failed

    async def _waiting(self, media_id: str) -> MediaItem | None:
        async with self._uow(read_only=True) as uow:
            try:
                item = await uow.invitation_media.get(media_id)
            except NotFound:
                return None
        return item if item.status is MediaStatus.PROCESSING else None

    async def _settle(
        self, item: MediaItem, image: ProcessedImage | None, reason: str | None
    ) -> MediaItem | None:
        """Ready with the image's renditions, or failed for ``reason``, in one transaction;
        the renditions' files are deleted again when the item is gone or settled otherwise by
        then (another run's files of the same bytes are kept: they are the item's)."""
        async with self._uow() as uow:
            try:
                current = await uow.invitation_media.get(item.id)
            except NotFound:
                current = None
            if current is not None and current.status is MediaStatus.PROCESSING:
                now = self._clock.now()
                if image is not None:
                    current.processed(image, at=now)
                else:
                    current.fail(reason or STUCK_REASON, at=now)
                await uow.invitation_media.update(current)
                await uow.commit()
                return current
        kept = {r.file_name for r in current.renditions} if current is not None else set()
        if image is not None:
            for rendition in image.renditions:
                if rendition.file_name not in kept:
                    await self._files.delete(item.key_of(rendition.file_name))
        return current
