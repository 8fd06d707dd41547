"""An ``ImageProcessor`` for tests that decodes no pixel, passing the port's contract
(``tests/contracts/media/image_processor.py``):

    processor = FakeImageProcessor()
    image = await processor.process(content)   # sizes from the file's header
    processor.processed                         # how many images it answered

It reads what the header says (size, EXIF orientation), refuses what the real processor
refuses before decoding (a canvas over the pixel limit, a file that is no image or is
cut short) and answers renditions of the right sizes and formats drawn plain grey, with
no metadata. It stands in for the pipeline's plumbing, not its pictures.
"""

from __future__ import annotations

import math
import struct

from talia_core.shared.media import (
    DISPLAY_PX,
    MAX_PIXELS,
    THUMB_PX,
    ImageFormat,
    MediaTooLarge,
    NotMedia,
    ProcessedImage,
    Rendition,
    fitted,
)

_SWAPPING = {5, 6, 7, 8}
_NOT_AN_IMAGE = "the file is not a JPEG, PNG, GIF or WebP image"
_CUT_SHORT = "the image is corrupt or cut short"


class FakeImageProcessor:
    def __init__(self) -> None:
        self.processed = 0

    async def process(
        self,
        content: bytes,
        *,
        display_px: int = DISPLAY_PX,
        thumb_px: int = THUMB_PX,
        max_pixels: int = MAX_PIXELS,
    ) -> ProcessedImage:
        width, height, orientation = header(content)
        if not width or not height:
            raise NotMedia(_NOT_AN_IMAGE)
        if width * height > max_pixels:
            raise MediaTooLarge(f"the image declares {width}x{height} pixels, over {max_pixels}")
        if not _complete(content):
            raise NotMedia(_CUT_SHORT)
        if orientation in _SWAPPING:
            width, height = height, width
        display = fitted(width, height, display_px)
        thumb = fitted(*display, thumb_px)
        self.processed += 1
        return ProcessedImage(
            width=width,
            height=height,
            renditions=tuple(
                Rendition(name, format, w, h, _grey(format, w, h))
                for name, (w, h) in (("display", display), ("thumb", thumb))
                for format in (ImageFormat.WEBP, ImageFormat.JPEG)
            ),
        )


def header(content: bytes) -> tuple[int, int, int]:
    """Width, height and EXIF orientation as the file's header declares them."""
    try:
        if content.startswith(b"\x89PNG\r\n\x1a\n") and content[12:16] == b"IHDR":
            width, height = struct.unpack(">II", content[16:24])
            return width, height, 1
        if content.startswith((b"GIF87a", b"GIF89a")):
            width, height = struct.unpack("<HH", content[6:10])
            return width, height, 1
        if content.startswith(b"RIFF") and content[8:12] == b"WEBP":
            return (*_webp_size(content), 1)
        if content.startswith(b"\xff\xd8\xff"):
            return _jpeg_header(content)
    except (struct.error, IndexError):
        pass
    raise NotMedia(_NOT_AN_IMAGE)


def _webp_size(content: bytes) -> tuple[int, int]:
    chunk = content[12:16]
    if chunk == b"VP8X":
        return 1 + int.from_bytes(content[24:27], "little"), 1 + int.from_bytes(
            content[27:30], "little"
        )
    if chunk == b"VP8L" and content[20] == 0x2F:
        bits = int.from_bytes(content[21:25], "little")
        return 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)
    if chunk == b"VP8 " and content[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", content[26:30])
        return width & 0x3FFF, height & 0x3FFF
    raise NotMedia(_NOT_AN_IMAGE)


def _jpeg_header(content: bytes) -> tuple[int, int, int]:
    orientation, at = 1, 2
    while at + 4 <= len(content):
        if content[at] != 0xFF:
            break
        marker, length = content[at + 1], struct.unpack(">H", content[at + 2 : at + 4])[0]
        segment = content[at + 4 : at + 2 + length]
        if marker == 0xE1 and segment.startswith(b"Exif\x00\x00"):
            orientation = _orientation(segment[6:])
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", segment[1:5])
            return width, height, orientation
        at += 2 + length
    raise NotMedia(_NOT_AN_IMAGE)


def _orientation(tiff: bytes) -> int:
    """Tag 0x0112 of the first directory of an EXIF (TIFF) block; 1 when it is not there."""
    order = "<" if tiff[:2] == b"II" else ">"
    first = struct.unpack(order + "I", tiff[4:8])[0]
    (count,) = struct.unpack(order + "H", tiff[first : first + 2])
    for entry in range(first + 2, first + 2 + 12 * count, 12):
        tag, kind = struct.unpack(order + "HH", tiff[entry : entry + 4])
        if tag == 0x0112 and kind == 3:
            value: int = struct.unpack(order + "H", tiff[entry + 8 : entry + 10])[0]
            return value
    return 1


def _complete(content: bytes) -> bool:
    """Whether the file runs to its format's end: a JPEG's EOI marker, a PNG's IEND chunk,
    a GIF's trailer, the length a WebP's RIFF header announces."""
    if content.startswith(b"\xff\xd8"):
        return content.rstrip(b"\x00").endswith(b"\xff\xd9")
    if content.startswith(b"\x89PNG"):
        return content.endswith(b"IEND\xaeB`\x82")
    if content.startswith(b"GIF"):
        return content.endswith(b"\x3b")
    return int.from_bytes(content[4:8], "little") + 8 <= len(content)


def _grey(format: ImageFormat, width: int, height: int) -> bytes:
    return _grey_webp(width, height) if format is ImageFormat.WEBP else _grey_jpeg(width, height)


def _grey_webp(width: int, height: int) -> bytes:
    """A lossless WebP (VP8L) of one grey: every prefix code holds a single symbol, so the
    pixels take no bits at all."""
    fields = [(0x2F, 8), (width - 1, 14), (height - 1, 14), (0, 1), (0, 3), (0, 1), (0, 1), (0, 1)]
    for symbol in (128, 128, 128, 255):  # green, red, blue, alpha: one 8-bit symbol each
        fields += [(1, 1), (0, 1), (1, 1), (symbol, 8)]
    fields += [(1, 1), (0, 1), (0, 1), (0, 1)]  # distance: one 1-bit symbol
    bits, shift = 0, 0
    for value, size in fields:
        bits |= value << shift
        shift += size
    chunk = bits.to_bytes(math.ceil(shift / 8), "little")
    body = b"WEBP" + b"VP8L" + struct.pack("<I", len(chunk)) + chunk + b"\x00" * (len(chunk) % 2)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _grey_jpeg(width: int, height: int) -> bytes:
    """A baseline greyscale JPEG of mid grey: each 8x8 block is a zero DC difference and an
    end of block, one bit each under single-code Huffman tables."""
    blocks = math.ceil(width / 8) * math.ceil(height / 8)
    whole, rest = divmod(2 * blocks, 8)
    scan = b"\x00" * whole + (bytes([(1 << (8 - rest)) - 1]) if rest else b"")
    return b"".join(
        [
            b"\xff\xd8",
            b"\xff\xdb\x00\x43\x00" + b"\x01" * 64,
            b"\xff\xc0\x00\x0b\x08" + struct.pack(">HH", height, width) + b"\x01\x01\x11\x00",
            b"\xff\xc4\x00\x26",
            b"\x00" + b"\x01" + b"\x00" * 15 + b"\x00",
            b"\x10" + b"\x01" + b"\x00" * 15 + b"\x00",
            b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00",
            scan,
            b"\xff\xd9",
        ]
    )
