"""The ``ImageProcessor`` on Pillow, on a worker thread (decoding is CPU-bound).

The steps, each a function so the benchmark can time them: ``opened`` reads the header
only and refuses a canvas over the pixel limit before any pixel is decoded; ``decoded``
asks a JPEG to decode at the smallest power-of-two scale still at least the display size
(``draft``: a 12 MP photo decodes at a quarter of its pixels); ``upright`` applies the EXIF
orientation, brings colours to sRGB when the file carries a profile and keeps an alpha
channel only when there is one; ``resized`` and ``encoded`` make the renditions, written
with no metadata at all.
"""

from __future__ import annotations

import asyncio
import io

from PIL import Image, ImageCms, ImageOps

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

FORMATS = ("JPEG", "PNG", "GIF", "WEBP")
"""The decoders Pillow may use: a file is never handed to Pillow's other, rarer ones."""
QUALITY = 82
WEBP_METHOD = 2
"""libwebp's effort, 0 to 6. On a photo's display size 2 takes a third of the time of the
default 4 for files as small (``benchmarks/images.py``)."""
_SWAPPING = {5, 6, 7, 8}
"""EXIF orientations that turn the image a quarter: stored width is displayed height."""
_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


class PillowImageProcessor:
    def __init__(self, *, draft: bool = True) -> None:
        self._draft = draft

    async def process(
        self,
        content: bytes,
        *,
        display_px: int = DISPLAY_PX,
        thumb_px: int = THUMB_PX,
        max_pixels: int = MAX_PIXELS,
    ) -> ProcessedImage:
        return await asyncio.to_thread(self.process_now, content, display_px, thumb_px, max_pixels)

    def process_now(
        self, content: bytes, display_px: int, thumb_px: int, max_pixels: int
    ) -> ProcessedImage:
        """The whole pipeline on the calling thread."""
        image = opened(content, max_pixels)
        width, height = image.size
        image = decoded(image, display_px if self._draft else None)
        if _orientation(image) in _SWAPPING:
            width, height = height, width
        image = upright(image)
        display, thumb = resized(image, display_px, thumb_px)
        return ProcessedImage(
            width=width,
            height=height,
            renditions=(*encoded("display", display), *encoded("thumb", thumb)),
        )


def opened(content: bytes, max_pixels: int) -> Image.Image:
    """The image with its header read and its size checked; no pixel decoded yet."""
    try:
        image = Image.open(io.BytesIO(content), formats=FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise MediaTooLarge(f"the image declares too many pixels: {error}") from None
    except Exception:  # a file that is no image fails in Pillow's many ways
        raise NotMedia("the file is not a JPEG, PNG, GIF or WebP image") from None
    if image.width * image.height > max_pixels:
        raise MediaTooLarge(
            f"the image declares {image.width}x{image.height} pixels, over {max_pixels}"
        )
    return image


def decoded(image: Image.Image, display_px: int | None) -> Image.Image:
    """The pixels decoded: a JPEG at the smallest scale still ``display_px`` on its long
    side when that is given."""
    if display_px is not None and image.format == "JPEG":
        image.draft(image.mode, fitted(image.width, image.height, display_px))
    try:
        image.load()
    except Exception:  # a cut or corrupt file fails in Pillow's many ways
        raise NotMedia("the image is corrupt or cut short") from None
    return image


def upright(image: Image.Image) -> Image.Image:
    """Turned as its EXIF orientation says, in sRGB, as RGB or (with transparency) RGBA."""
    turned = ImageOps.exif_transpose(image)
    if turned.mode.startswith("I;16"):  # 16-bit grey: Pillow would clip it, not scale it
        turned = turned.convert("I").point(lambda value: value / 257).convert("L")
    alpha = turned.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        turned.mode == "P" and "transparency" in turned.info
    )
    try:
        converted = turned.convert("RGBA" if alpha else "RGB")
    except ValueError:
        raise NotMedia(f"images in mode {turned.mode} are not taken") from None
    profile = image.info.get("icc_profile")
    if profile:
        converted = _in_srgb(converted, profile)
    converted.info = {}
    return converted


def _in_srgb(image: Image.Image, profile: bytes) -> Image.Image:
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        result = ImageCms.profileToProfile(image, source, _SRGB, outputMode=image.mode)
    except (ImageCms.PyCMSError, OSError, ValueError):
        return image  # a broken or mismatched profile: the pixels are taken as sRGB
    return result if result is not None else image


def resized(image: Image.Image, display_px: int, thumb_px: int) -> tuple[Image.Image, Image.Image]:
    """The display image and the thumbnail (made from the display one: fewer pixels to
    filter, the same result to the eye)."""
    display = _scaled(image, display_px)
    return display, _scaled(display, thumb_px)


def _scaled(image: Image.Image, long_side: int) -> Image.Image:
    size = fitted(image.width, image.height, long_side)
    if size == image.size:
        return image
    scaled = image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    scaled.info = {}
    return scaled


def encoded(name: str, image: Image.Image) -> tuple[Rendition, Rendition]:
    """``image`` as WebP (alpha kept) and as progressive JPEG (flattened on white)."""
    webp = io.BytesIO()
    image.save(webp, "WEBP", quality=QUALITY, method=WEBP_METHOD)
    jpeg = io.BytesIO()
    _flattened(image).save(jpeg, "JPEG", quality=QUALITY, progressive=True, optimize=True)
    return (
        Rendition(name, ImageFormat.WEBP, image.width, image.height, webp.getvalue()),
        Rendition(name, ImageFormat.JPEG, image.width, image.height, jpeg.getvalue()),
    )


def _flattened(image: Image.Image) -> Image.Image:
    if image.mode != "RGBA":
        return image
    white = Image.new("RGB", image.size, (255, 255, 255))
    white.paste(image, mask=image.getchannel("A"))
    return white


def _orientation(image: Image.Image) -> int:
    value = image.getexif().get(0x0112, 1)
    return value if isinstance(value, int) else 1
