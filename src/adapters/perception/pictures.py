"""Images as the engines are given them and their boxes read back: the bytes must sniff as
an image before an engine is asked, and every box an engine answers is held inside the
picture (a detector's box may overhang an edge by its rounding, a language model's by its
guess) and dropped when nothing of it is left."""

from __future__ import annotations

import io
import warnings

from PIL import Image as Pillow
from PIL import UnidentifiedImageError

from talia_core.shared.media import MediaKind, NotMedia, sniff
from talia_core.shared.vision import Box, DetectedObject, Image

_NOT_AN_IMAGE = "the file is not an image (JPEG, PNG, GIF, WebP)"
_FORMATS = ("JPEG", "PNG", "GIF", "WEBP")


def checked(image: Image) -> str:
    """The image's MIME type as its bytes say; ``NotMedia`` when they are not an image."""
    found = sniff(image.content)
    if found is None or found.kind is not MediaKind.IMAGE:
        raise NotMedia(_NOT_AN_IMAGE)
    return found.mime_type


def size_of(image: Image) -> tuple[int, int]:
    """Width and height as the header of a ``checked`` image declares them (no pixel is
    decoded)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Pillow.DecompressionBombWarning)
            with Pillow.open(io.BytesIO(image.content), formats=_FORMATS) as opened:
                width, height = opened.size
    except (UnidentifiedImageError, OSError, Pillow.DecompressionBombError) as error:
        raise NotMedia(f"{_NOT_AN_IMAGE}: {error}") from error
    return width, height


def inside(objects: list[DetectedObject], size: tuple[int, int]) -> tuple[DetectedObject, ...]:
    """The objects whose box keeps some area inside the picture, each box cut to it, the
    most confident first."""
    width, height = size
    kept = []
    for found in objects:
        box = Box(
            max(0, min(found.box.x_min, width)),
            max(0, min(found.box.y_min, height)),
            max(0, min(found.box.x_max, width)),
            max(0, min(found.box.y_max, height)),
        )
        if box.x_max > box.x_min and box.y_max > box.y_min:
            kept.append(DetectedObject(found.label, min(1.0, max(0.0, found.score)), box))
    return tuple(sorted(kept, key=lambda found: -found.score))
