"""What Pillow's processor does beyond the port's contract: the colour modes files come in,
colour profiles, animations."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageCms

from adapters.media.pillow import PillowImageProcessor
from talia_core.shared.media import ImageFormat
from tests.contracts.media.image_processor import colour_at, near

WHITE = (255, 255, 255)


def encoded(image: Image.Image, format: str, **params: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format, **params)
    return out.getvalue()


@pytest.mark.parametrize(
    ("content", "jpeg_colour", "webp_mode"),
    [
        (encoded(Image.new("I;16", (50, 40), 30_000), "PNG"), (116, 116, 116), "RGB"),
        (encoded(Image.new("CMYK", (50, 40), (0, 255, 255, 0)), "JPEG"), (255, 0, 0), "RGB"),
        (encoded(Image.new("L", (50, 40), 100), "JPEG"), (100, 100, 100), "RGB"),
        (encoded(Image.new("1", (50, 40), 1), "PNG"), WHITE, "RGB"),
        (encoded(Image.new("LA", (50, 40), (100, 0)), "PNG"), WHITE, "RGBA"),
        (encoded(Image.new("P", (50, 40), 0), "GIF", transparency=0), WHITE, "RGBA"),
    ],
    ids=["grey-16-bit", "cmyk", "grey", "bilevel", "grey-alpha", "palette-transparent"],
)
async def test_every_colour_mode_comes_out_as_rgb_with_alpha_only_when_it_had_it(
    content: bytes, jpeg_colour: tuple[int, int, int], webp_mode: str
) -> None:
    image = await PillowImageProcessor().process(content)

    jpeg = image.rendition("display", ImageFormat.JPEG).content
    assert near(colour_at(jpeg, 0.5, 0.5), jpeg_colour)
    with Image.open(io.BytesIO(image.rendition("display", ImageFormat.WEBP).content)) as webp:
        assert webp.mode == webp_mode


@pytest.mark.parametrize(
    "profile",
    [ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes(), b"not a profile" * 20],
    ids=["srgb", "broken"],
)
async def test_a_colour_profile_is_applied_or_ignored_and_never_kept(profile: bytes) -> None:
    content = encoded(Image.new("RGB", (60, 40), (10, 200, 10)), "JPEG", icc_profile=profile)

    image = await PillowImageProcessor().process(content)

    for rendition in image.renditions:
        assert near(colour_at(rendition.content, 0.5, 0.5)[:3], (10, 200, 10))
        with Image.open(io.BytesIO(rendition.content)) as decoded:
            assert "icc_profile" not in decoded.info


async def test_an_animation_keeps_its_first_frame() -> None:
    frames = [Image.new("RGB", (40, 30), colour) for colour in ((200, 0, 0), (0, 0, 200))]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)

    image = await PillowImageProcessor().process(out.getvalue())

    for rendition in image.renditions:
        assert near(colour_at(rendition.content, 0.5, 0.5)[:3], (200, 0, 0))
        with Image.open(io.BytesIO(rendition.content)) as decoded:
            assert getattr(decoded, "n_frames", 1) == 1
