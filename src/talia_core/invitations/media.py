"""An invitation's media: photos, one cover and one audio track, in the owner's order.

An image is kept as uploaded (``original_key``) while a job makes its renditions; it is then
``ready`` with them, or ``failed`` with the reason. Audio is served as uploaded: it is ready
at once. Every file guests get is named after the hash of its bytes, so it can be cached for
good; it is kept under the item's own folder, so two items holding the same bytes never share
a file.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Sequence
from datetime import datetime

import attrs

from talia_core.invitations.model import Allowances
from talia_core.shared.errors import Conflict, NotFound, RuleViolated
from talia_core.shared.ids import new_id
from talia_core.shared.media import MediaKind, MediaLimits, MediaType, ProcessedImage

MAX_REASON_LENGTH = 300
"""A failure's reason is kept for the owner to read, shortened to this on purpose."""
AUDIO_RENDITION = "audio"


class MediaRole(enum.StrEnum):
    PHOTO = "photo"
    COVER = "cover"
    AUDIO = "audio"


class MediaStatus(enum.StrEnum):
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"


@attrs.frozen
class MediaRendition:
    """A file guests are served: ``name`` says its use (``display``, ``thumb``, ``audio``);
    ``file_name`` is unique to its bytes."""

    name: str
    format: str
    mime_type: str
    file_name: str
    size: int
    width: int | None = None
    height: int | None = None


@attrs.define
class MediaItem:
    invitation_id: str
    kind: MediaKind
    role: MediaRole
    mime_type: str
    size: int
    position: int
    original_key: str
    created_at: datetime
    updated_at: datetime
    status: MediaStatus = MediaStatus.PROCESSING
    reason: str | None = None
    width: int | None = None
    height: int | None = None
    renditions: tuple[MediaRendition, ...] = ()
    id: str = attrs.field(factory=new_id)

    @classmethod
    def uploaded(
        cls,
        invitation_id: str,
        found: MediaType,
        role: MediaRole,
        content: bytes,
        *,
        position: int,
        at: datetime,
    ) -> MediaItem:
        """A new item holding ``content``; audio is ready at once, an image waits for its
        renditions. The keys are the app's own, never made from the file's name."""
        media_id = new_id()
        folder = f"invitations/{invitation_id}/media/{media_id}"
        item = cls(
            invitation_id=invitation_id,
            kind=found.kind,
            role=role,
            mime_type=found.mime_type,
            size=len(content),
            position=position,
            original_key=f"{folder}/original.{found.extension}",
            created_at=at,
            updated_at=at,
            id=media_id,
        )
        if found.kind is MediaKind.AUDIO:
            digest = hashlib.sha256(content).hexdigest()[:16]
            item.status = MediaStatus.READY
            item.renditions = (
                MediaRendition(
                    name=AUDIO_RENDITION,
                    format=found.extension,
                    mime_type=found.mime_type,
                    file_name=f"{digest}.{found.extension}",
                    size=len(content),
                ),
            )
        return item

    @property
    def folder(self) -> str:
        return self.original_key.rsplit("/", 1)[0]

    def key_of(self, file_name: str) -> str:
        """Where the rendition named ``file_name`` is kept; audio is its original file."""
        if self.kind is MediaKind.AUDIO:
            return self.original_key
        return f"{self.folder}/{file_name}"

    @property
    def keys(self) -> list[str]:
        """Every file the item keeps."""
        return sorted({self.original_key, *(self.key_of(r.file_name) for r in self.renditions)})

    def rendition(self, file_name: str) -> MediaRendition:
        for rendition in self.renditions:
            if rendition.file_name == file_name:
                return rendition
        raise NotFound("media file", file_name)

    def processed(self, image: ProcessedImage, *, at: datetime) -> None:
        if self.status is not MediaStatus.PROCESSING:
            raise Conflict(f"media {self.id} is {self.status.value}, not processing")
        self.width, self.height = image.width, image.height
        self.renditions = tuple(
            MediaRendition(
                name=r.name,
                format=r.format.value,
                mime_type=r.format.mime_type,
                file_name=r.file_name,
                size=len(r.content),
                width=r.width,
                height=r.height,
            )
            for r in image.renditions
        )
        self.status = MediaStatus.READY
        self.updated_at = at

    def fail(self, reason: str, *, at: datetime) -> None:
        if self.status is not MediaStatus.PROCESSING:
            raise Conflict(f"media {self.id} is {self.status.value}, not processing")
        self.status = MediaStatus.FAILED
        self.reason = reason[:MAX_REASON_LENGTH]
        self.updated_at = at


def limits_of(allowances: Allowances) -> MediaLimits:
    """The plan's size limit holds for each file, image or audio."""
    return MediaLimits(image_bytes=allowances.media_bytes, audio_bytes=allowances.media_bytes)


def role_for(found: MediaType, role: MediaRole | None) -> MediaRole:
    """The role asked for, or the kind's own; an image is a photo or the cover, audio is
    the audio track."""
    if role is None:
        return MediaRole.AUDIO if found.kind is MediaKind.AUDIO else MediaRole.PHOTO
    if (role is MediaRole.AUDIO) != (found.kind is MediaKind.AUDIO):
        raise RuleViolated(
            f"a {found.kind.value} cannot be the invitation's {role.value}", {"role": "kind"}
        )
    return role


def admit(
    items: Sequence[MediaItem], allowances: Allowances, content: bytes, role: MediaRole | None
) -> tuple[MediaType, MediaRole]:
    """What ``content`` is and the role it takes, refusing it over the plan's limits: its
    size, the number of items (every item counts, failed ones too, until deleted) and one
    audio track."""
    found = limits_of(allowances).admit(content)
    if len(items) >= allowances.media_count:
        raise RuleViolated(
            f"the plan allows {allowances.media_count} media files", {"file": "over allowance"}
        )
    chosen = role_for(found, role)
    if chosen is MediaRole.AUDIO and any(i.role is MediaRole.AUDIO for i in items):
        raise Conflict("the invitation has an audio track: delete it before uploading another")
    return found, chosen


def arrange(
    items: list[MediaItem],
    item: MediaItem,
    *,
    position: int | None,
    role: MediaRole | None,
    at: datetime,
) -> list[MediaItem]:
    """Give ``item`` (one of ``items``, in order) its new role and place; a new cover makes
    the earlier one a photo. The items whose role or position changed."""
    before = {i.id: (i.role, i.position) for i in items}
    current = next(i for i in items if i.id == item.id)
    if role is not None and role is not current.role:
        current.role = _changed_role(current, role)
        if role is MediaRole.COVER:
            for other in items:
                if other.id != current.id and other.role is MediaRole.COVER:
                    other.role = MediaRole.PHOTO
    if position is not None:
        if not 0 <= position < len(items):
            raise RuleViolated(f"position is 0 to {len(items) - 1}", {"position": "out of range"})
        items.remove(current)
        items.insert(position, current)
    changed = []
    for place, each in enumerate(items):
        each.position = place
        if before.get(each.id) != (each.role, each.position):
            each.updated_at = at
            changed.append(each)
    return changed


def _changed_role(item: MediaItem, role: MediaRole) -> MediaRole:
    if item.kind is MediaKind.AUDIO or role is MediaRole.AUDIO:
        raise RuleViolated(
            "an image is a photo or the cover; the audio track keeps its role", {"role": "kind"}
        )
    return role


@attrs.frozen
class Gallery:
    """An invitation's ready media as guests see it: the cover, the photos in order and the
    audio track."""

    cover: MediaItem | None
    photos: tuple[MediaItem, ...]
    audio: MediaItem | None

    @classmethod
    def of(cls, items: Sequence[MediaItem]) -> Gallery:
        ready = sorted(
            (i for i in items if i.status is MediaStatus.READY), key=lambda i: i.position
        )
        return cls(
            cover=next((i for i in ready if i.role is MediaRole.COVER), None),
            photos=tuple(i for i in ready if i.role is MediaRole.PHOTO),
            audio=next((i for i in ready if i.role is MediaRole.AUDIO), None),
        )
