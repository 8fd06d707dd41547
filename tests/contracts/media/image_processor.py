"""The contract every ``ImageProcessor`` passes: Pillow's, and the fake that decodes no pixel.

Subclass ``ImageProcessorContract`` (what the uses of the port rely on: sizes, orientation,
formats, names, no metadata, refusals) and provide the fixture ``processor``; a processor
that draws the pictures themselves subclasses ``RenderingContract``, which also looks at
the pixels. The images are drawn here with Pillow.
"""

from __future__ import annotations

import hashlib
import io
import struct
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from talia_core.shared.media import (
    ImageFormat,
    ImageProcessor,
    MediaTooLarge,
    NotMedia,
    ProcessedImage,
)

RED, BLUE = (220, 20, 20), (20, 20, 220)
MAGIC = {ImageFormat.WEBP: (b"RIFF", b"WEBP"), ImageFormat.JPEG: (b"\xff\xd8\xff", b"")}


def photo(width: int, height: int, format: str = "JPEG", **params: object) -> bytes:
    """A red upper half over a blue lower half."""
    image = Image.new("RGB", (width, height), BLUE)
    image.paste(RED, (0, 0, width, height // 2))
    out = io.BytesIO()
    image.save(out, format, **params)
    return out.getvalue()


def turned_photo_with_gps(width: int = 300, height: int = 200) -> bytes:
    """A JPEG stored ``width`` x ``height`` that EXIF says to show turned a quarter clockwise
    (orientation 6), with where it was taken."""
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "Camara"
    gps = exif.get_ifd(0x8825)
    gps.update({1: "S", 2: (12.0, 2.0, 46.0), 3: "W", 4: (77.0, 1.0, 42.0)})
    return photo(width, height, exif=exif.tobytes())


def transparent_png(width: int = 200, height: int = 100) -> bytes:
    """Opaque red on the left half, fully transparent on the right."""
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    image.paste((*RED, 255), (0, 0, width // 2, height))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def bomb(width: int, height: int) -> bytes:
    """A PNG of a few dozen bytes declaring a ``width`` x ``height`` canvas."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 1024))
        + chunk(b"IEND", b"")
    )


def assert_well_formed(image: ProcessedImage) -> None:
    assert sorted((r.name, r.format) for r in image.renditions) == sorted(
        (name, format) for name in ("display", "thumb") for format in ImageFormat
    )
    for rendition in image.renditions:
        start, tag = MAGIC[rendition.format]
        assert rendition.content.startswith(start)
        assert rendition.content[8:12] == tag or not tag
        assert rendition.sha256 == hashlib.sha256(rendition.content).hexdigest()
        assert rendition.file_name == (
            f"{rendition.sha256[:16]}.{rendition.width}.{rendition.format.extension}"
        )
        with Image.open(io.BytesIO(rendition.content)) as decoded:
            assert decoded.size == (rendition.width, rendition.height)
            assert decoded.format == rendition.format.name


class ImageProcessorContract:
    async def test_a_photo_comes_out_as_a_display_image_and_a_thumbnail_in_webp_and_jpeg(
        self, processor: ImageProcessor
    ) -> None:
        image = await processor.process(photo(3000, 2000), display_px=1600, thumb_px=400)

        assert (image.width, image.height) == (3000, 2000)
        assert_well_formed(image)
        assert {(r.name, r.width, r.height) for r in image.renditions} == {
            ("display", 1600, 1067),
            ("thumb", 400, 267),
        }

    @pytest.mark.parametrize("format", ["PNG", "GIF", "WEBP", "JPEG"])
    async def test_every_format_taken_keeps_its_aspect(
        self, processor: ImageProcessor, format: str
    ) -> None:
        image = await processor.process(photo(500, 1000, format), display_px=320, thumb_px=80)

        assert_well_formed(image)
        assert {(r.name, r.width, r.height) for r in image.renditions} == {
            ("display", 160, 320),
            ("thumb", 40, 80),
        }

    async def test_a_small_image_is_never_enlarged(self, processor: ImageProcessor) -> None:
        image = await processor.process(photo(120, 90), display_px=1600, thumb_px=400)

        assert {(r.width, r.height) for r in image.renditions} == {(120, 90)}

    async def test_a_photo_turned_by_exif_comes_out_upright(
        self, processor: ImageProcessor
    ) -> None:
        image = await processor.process(turned_photo_with_gps(300, 200), thumb_px=150)

        assert (image.width, image.height) == (200, 300)
        assert {(r.name, r.width, r.height) for r in image.renditions} == {
            ("display", 200, 300),
            ("thumb", 100, 150),
        }

    async def test_no_rendition_keeps_exif_gps_or_any_other_metadata(
        self, processor: ImageProcessor
    ) -> None:
        image = await processor.process(turned_photo_with_gps())

        for rendition in image.renditions:
            with Image.open(io.BytesIO(rendition.content)) as decoded:
                assert not decoded.getexif()
                assert not {"exif", "xmp", "icc_profile", "XML:com.adobe.xmp"} & set(decoded.info)
            assert b"Exif" not in rendition.content
            assert b"Camara" not in rendition.content

    async def test_the_same_image_gives_the_same_renditions(
        self, processor: ImageProcessor
    ) -> None:
        content = turned_photo_with_gps()

        assert await processor.process(content) == await processor.process(content)

    @pytest.mark.parametrize(("width", "height"), [(30_000, 30_000), (8_000, 8_000)])
    async def test_a_decompression_bomb_is_refused_before_its_pixels_are_decoded(
        self, processor: ImageProcessor, width: int, height: int
    ) -> None:
        with pytest.raises(MediaTooLarge, match="pixels"):
            await processor.process(bomb(width, height), max_pixels=50_000_000)

    async def test_an_image_over_the_pixel_limit_given_is_refused(
        self, processor: ImageProcessor
    ) -> None:
        with pytest.raises(MediaTooLarge):
            await processor.process(photo(300, 200), max_pixels=300 * 200 - 1)

    @pytest.mark.parametrize(
        "content",
        [
            b"",
            b"Lista de invitados: Ana, Luis\n",
            b"%PDF-1.7\n1 0 obj\n",
            b"\xff\xd8\xff",
            b"RIFF\x10\x00\x00\x00WAVEfmt ",
            bytes(range(256)) * 4,
        ],
        ids=["empty", "text", "pdf", "jpeg-signature-only", "wav", "noise"],
    )
    async def test_a_file_that_is_no_image_is_refused(
        self, processor: ImageProcessor, content: bytes
    ) -> None:
        with pytest.raises(NotMedia):
            await processor.process(content)

    @pytest.mark.parametrize("format", ["JPEG", "PNG"])
    async def test_an_image_cut_short_is_refused(
        self, processor: ImageProcessor, format: str
    ) -> None:
        content = photo(640, 480, format)

        with pytest.raises(NotMedia):
            await processor.process(content[: len(content) // 2])

    # Each subclass runs this on its own processor: a different executor, the same test.
    @settings(
        max_examples=150,
        deadline=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.differing_executors,
        ],
    )
    @given(data=st.data())
    async def test_damaged_images_are_processed_or_refused_never_failing_otherwise(
        self, processor: ImageProcessor, data: st.DataObject
    ) -> None:
        content = bytearray(data.draw(st.sampled_from(SAMPLES)))
        for _ in range(data.draw(st.integers(1, 8))):
            content[data.draw(st.integers(0, len(content) - 1))] = data.draw(st.integers(0, 255))
        cut = data.draw(st.integers(1, len(content)))

        try:
            image = await processor.process(bytes(content[:cut]), max_pixels=1_000_000)
        except (NotMedia, MediaTooLarge):
            return
        assert_well_formed(image)


SAMPLES = [photo(64, 48, format) for format in ("JPEG", "PNG", "GIF", "WEBP")]


def colour_at(content: bytes, x: float, y: float) -> tuple[int, ...]:
    """The colour at a fraction ``x``, ``y`` of a rendition's width and height."""
    with Image.open(io.BytesIO(content)) as image:
        pixel = image.getpixel((int(x * image.width), int(y * image.height)))
    assert isinstance(pixel, tuple)
    return pixel


def near(colour: tuple[int, ...], expected: tuple[int, ...]) -> bool:
    return all(abs(a - b) <= 24 for a, b in zip(colour, expected, strict=True))


class RenderingContract(ImageProcessorContract):
    async def test_the_picture_is_turned_as_exif_says(self, processor: ImageProcessor) -> None:
        image = await processor.process(turned_photo_with_gps())

        # Turned a quarter clockwise, the red upper half is now on the right.
        for rendition in image.renditions:
            assert near(colour_at(rendition.content, 0.1, 0.5)[:3], BLUE)
            assert near(colour_at(rendition.content, 0.9, 0.5)[:3], RED)

    async def test_webp_keeps_transparency_and_jpeg_is_flattened_on_white(
        self, processor: ImageProcessor
    ) -> None:
        image = await processor.process(transparent_png(), thumb_px=100)

        for name in ("display", "thumb"):
            webp = image.rendition(name, ImageFormat.WEBP).content
            jpeg = image.rendition(name, ImageFormat.JPEG).content
            assert colour_at(webp, 0.9, 0.5)[3] == 0
            assert near(colour_at(webp, 0.1, 0.5), (*RED, 255))
            assert near(colour_at(jpeg, 0.9, 0.5), (255, 255, 255))
            assert near(colour_at(jpeg, 0.1, 0.5), RED)

    async def test_different_pictures_get_different_names(self, processor: ImageProcessor) -> None:
        first = await processor.process(photo(300, 200), thumb_px=100)
        second = await processor.process(transparent_png(300, 200), thumb_px=100)

        names = {r.file_name for r in first.renditions} | {r.file_name for r in second.renditions}
        assert len(names) == 8
