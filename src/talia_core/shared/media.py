"""Images and audio uploaded by customers: their type told from the bytes, the limits they
are held to, and the ``ImageProcessor`` port that turns a photo into renditions to serve.

Any context may take media (invitations first), so the types and the port live in the
shared kernel. A rendition is named after a hash of its bytes (``<hash16>.<width>.<ext>``):
a new photo is a new name, so public media can be cached for good.
"""

from __future__ import annotations

import enum
import hashlib
from typing import Protocol

import attrs

from talia_core.shared.errors import RuleViolated

DISPLAY_PX = 1600
"""The long side of the image a guest sees: sharp on a phone, a quarter of a 12 MP photo."""
THUMB_PX = 400
MAX_PIXELS = 50_000_000
"""Pixels an image may declare: every phone photo fits (a 48 MP camera included); a
decompression bomb, a small file declaring a huge canvas, does not."""


class NotMedia(RuleViolated):
    """The bytes are not media of a kind taken here, or are corrupt or cut short."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail, {"file": detail})


class MediaTooLarge(RuleViolated):
    """The file is over its size limit, or the image declares more pixels than allowed."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail, {"file": detail})


class MediaKind(enum.StrEnum):
    IMAGE = "image"
    AUDIO = "audio"


@attrs.frozen
class MediaType:
    kind: MediaKind
    mime_type: str
    extension: str


JPEG = MediaType(MediaKind.IMAGE, "image/jpeg", "jpg")
PNG = MediaType(MediaKind.IMAGE, "image/png", "png")
GIF = MediaType(MediaKind.IMAGE, "image/gif", "gif")
WEBP = MediaType(MediaKind.IMAGE, "image/webp", "webp")
MP3 = MediaType(MediaKind.AUDIO, "audio/mpeg", "mp3")
M4A = MediaType(MediaKind.AUDIO, "audio/mp4", "m4a")
OGG = MediaType(MediaKind.AUDIO, "audio/ogg", "ogg")
WAV = MediaType(MediaKind.AUDIO, "audio/wav", "wav")

_M4A_BRANDS = {b"M4A ", b"M4B "}


def sniff(content: bytes) -> MediaType | None:
    """The type of ``content`` by its magic bytes, whatever its name or declared type says;
    ``None`` for anything else."""
    head = content[:64]
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return WAV
    if head.startswith(b"OggS"):
        return OGG
    if head[4:8] == b"ftyp" and _is_m4a(content):
        return M4A
    if head.startswith(b"ID3") or _is_mp3_frame(head):
        return MP3
    return None


def _is_m4a(content: bytes) -> bool:
    """An MPEG-4 file is audio when its major or a compatible brand says M4A or M4B (a
    video's ``mp42`` or ``isom`` alone is not)."""
    size = int.from_bytes(content[:4], "big")
    if not 16 <= size <= min(len(content), 4096):
        return False
    brands = [content[8:12]] + [content[at : at + 4] for at in range(16, size - 3, 4)]
    return any(brand in _M4A_BRANDS for brand in brands)


def _is_mp3_frame(head: bytes) -> bool:
    """An MPEG audio layer III frame header: 11 sync bits, a known version, a bit rate and
    sample rate that are not the reserved values."""
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version, layer = (head[1] >> 3) & 0b11, (head[1] >> 1) & 0b11
    bitrate, rate = head[2] >> 4, (head[2] >> 2) & 0b11
    return version != 0b01 and layer == 0b01 and bitrate not in (0, 0b1111) and rate != 0b11


@attrs.frozen
class MediaLimits:
    """What an upload may weigh, by kind (a plan's limits)."""

    image_bytes: int
    audio_bytes: int

    def admit(self, content: bytes) -> MediaType:
        """The type of ``content``, refusing what is not media or is over its limit."""
        found = sniff(content)
        if found is None:
            raise NotMedia(
                "the file is not an image (JPEG, PNG, GIF, WebP) or audio (MP3, M4A, Ogg, WAV)"
            )
        limit = self.image_bytes if found.kind is MediaKind.IMAGE else self.audio_bytes
        if len(content) > limit:
            raise MediaTooLarge(f"the {found.kind} is over its limit of {limit} bytes")
        return found


class ImageFormat(enum.StrEnum):
    WEBP = "webp"
    JPEG = "jpeg"

    @property
    def mime_type(self) -> str:
        return f"image/{self.value}"

    @property
    def extension(self) -> str:
        return "jpg" if self is ImageFormat.JPEG else "webp"


@attrs.frozen
class Rendition:
    """One encoding of an image at one size: ``name`` says its use (``display``, ``thumb``)."""

    name: str
    format: ImageFormat
    width: int
    height: int
    content: bytes = attrs.field(repr=False)
    sha256: str = attrs.field(init=False)

    @sha256.default
    def _hash(self) -> str:
        return hashlib.sha256(self.content).hexdigest()

    @property
    def file_name(self) -> str:
        """``<first 16 hex digits of the hash>.<width>.<ext>``: unique to the bytes."""
        return f"{self.sha256[:16]}.{self.width}.{self.format.extension}"


@attrs.frozen
class ProcessedImage:
    """An upright image's size as uploaded, and its renditions: each name in each format."""

    width: int
    height: int
    renditions: tuple[Rendition, ...]

    def rendition(self, name: str, format: ImageFormat) -> Rendition:
        for rendition in self.renditions:
            if rendition.name == name and rendition.format == format:
                return rendition
        raise KeyError(f"no {name} rendition in {format}")


def fitted(width: int, height: int, long_side: int) -> tuple[int, int]:
    """The size of a ``width`` x ``height`` image with its long side brought down to
    ``long_side``, keeping its aspect; an image already within it keeps its size."""
    if max(width, height) <= long_side:
        return width, height
    scale = long_side / max(width, height)
    if width >= height:
        return long_side, max(1, round(height * scale))
    return max(1, round(width * scale)), long_side


class ImageProcessor(Protocol):
    async def process(
        self,
        content: bytes,
        *,
        display_px: int = DISPLAY_PX,
        thumb_px: int = THUMB_PX,
        max_pixels: int = MAX_PIXELS,
    ) -> ProcessedImage:
        """The image upright (its EXIF orientation applied) as a ``display`` and a ``thumb``
        rendition, each in WebP and JPEG, with no metadata left (no EXIF, GPS, XMP or
        colour profile; colours brought to sRGB). WebP keeps transparency; JPEG is
        flattened on white. Images are never enlarged. Only the first frame of an
        animation is kept.

        ``MediaTooLarge`` when it declares over ``max_pixels``, before any pixel is
        decoded; ``NotMedia`` when it is not a JPEG, PNG, GIF or WebP image, or is corrupt
        or cut short."""
        ...
