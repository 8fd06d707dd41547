"""Real media for the perception tests, and what the local servers decode them with."""

from __future__ import annotations

import io
import struct

from PIL import Image as Pillow

from adapters.memory.speech import tone
from talia_core.shared.vision import Image

_PCM, _MULAW = 1, 7
__all__ = ["decodes_as_audio", "decodes_as_image", "photo", "spoken", "tone"]


def spoken(seconds: float = 0.6) -> bytes:
    """A WAV of a tone: audio a recogniser decodes."""
    return tone(seconds)


def photo(width: int = 320, height: int = 240, format: str = "PNG") -> Image:
    """A picture of a red square on white, ``width`` x ``height``."""
    picture = Pillow.new("RGB", (width, height), (255, 255, 255))
    picture.paste((200, 30, 30), (width // 4, height // 4, width // 2, height // 2))
    out = io.BytesIO()
    picture.save(out, format)
    return Image(out.getvalue(), Pillow.MIME[format])


def decodes_as_audio(content: bytes) -> bool:
    """Whether a decoder reads samples out of ``content``: a WAV is read to its end; the
    other containers are taken on their magic bytes."""
    if content.startswith(b"RIFF") and content[8:12] == b"WAVE":
        fmt, data = content.find(b"fmt ", 12), content.find(b"data", 12)
        if fmt < 0 or data < 0 or len(content) < fmt + 10:
            return False
        (tag,) = struct.unpack("<H", content[fmt + 8 : fmt + 10])
        return tag in (_PCM, _MULAW) and len(content) > data + 8
    return content.startswith((b"OggS", b"ID3", b"fLaC", b"\xff\xfb"))


def decodes_as_image(content: bytes) -> tuple[int, int] | None:
    """The size of the picture in ``content``, or None when it does not decode."""
    try:
        with Pillow.open(io.BytesIO(content)) as picture:
            picture.load()
            return picture.size
    except (OSError, ValueError):
        return None
