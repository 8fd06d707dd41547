"""Media told from its bytes, the limits an upload is held to, and the sizes renditions get."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from talia_core.shared.media import (
    GIF,
    JPEG,
    M4A,
    MP3,
    OGG,
    PNG,
    WAV,
    WEBP,
    MediaLimits,
    MediaTooLarge,
    MediaType,
    NotMedia,
    fitted,
    sniff,
)
from tests.contracts.media.image_processor import photo

LIMITS = MediaLimits(image_bytes=10_000, audio_bytes=20_000)


def m4a(major: bytes, *compatible: bytes) -> bytes:
    box = major + b"\x00\x00\x02\x00" + b"".join(compatible)
    return (8 + len(box)).to_bytes(4, "big") + b"ftyp" + box + b"\x00\x00\x00\x08free"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (photo(8, 8, "JPEG"), JPEG),
        (photo(8, 8, "PNG"), PNG),
        (photo(8, 8, "GIF"), GIF),
        (photo(8, 8, "WEBP"), WEBP),
        (b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\x00" * 32, MP3),
        (b"\xff\xfb\x90\x64" + b"\x00" * 32, MP3),
        (b"\xff\xf3\x48\xc4" + b"\x00" * 32, MP3),
        (m4a(b"M4A ", b"M4A ", b"mp42", b"isom"), M4A),
        (m4a(b"mp42", b"isom", b"M4A "), M4A),
        (b"OggS\x00\x02" + b"\x00" * 32, OGG),
        (b"RIFF\x24\x08\x00\x00WAVEfmt \x10\x00\x00\x00", WAV),
    ],
)
def test_media_is_known_by_its_magic_bytes(content: bytes, expected: MediaType) -> None:
    assert sniff(content) == expected


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"hola",
        b"%PDF-1.7\n",
        m4a(b"mp42", b"isom", b"avc1"),  # an MP4 video
        b"\xff\xf1\x50\x80" + b"\x00" * 32,  # AAC in ADTS frames, not MPEG layer III
        b"\xff\xfb\xf0\x64" + b"\x00" * 32,  # a reserved bit rate
        b"RIFF\x24\x08\x00\x00AVI LIST",
        b"PK\x03\x04" + b"\x00" * 32,
    ],
)
def test_anything_else_is_no_media(content: bytes) -> None:
    assert sniff(content) is None


def test_media_within_its_limit_is_admitted_with_its_type() -> None:
    assert LIMITS.admit(photo(8, 8, "PNG")) == PNG
    assert LIMITS.admit(b"OggS" + b"\x00" * 15_000) == OGG


def test_an_image_over_the_image_limit_is_too_large() -> None:
    with pytest.raises(MediaTooLarge, match="10000 bytes") as refused:
        LIMITS.admit(b"\x89PNG\r\n\x1a\n" + b"\x00" * 10_000)

    assert refused.value.fields == {"file": refused.value.detail}


def test_audio_is_held_to_the_audio_limit() -> None:
    with pytest.raises(MediaTooLarge, match="20000 bytes"):
        LIMITS.admit(b"OggS" + b"\x00" * 20_000)


@pytest.mark.parametrize("content", [b"", b"Lista de invitados", b"%PDF-1.7\n"])
def test_a_file_that_is_no_media_is_refused_naming_the_file(content: bytes) -> None:
    with pytest.raises(NotMedia) as refused:
        LIMITS.admit(content)

    assert set(refused.value.fields) == {"file"}


sides = st.integers(min_value=1, max_value=60_000)


@given(width=sides, height=sides, long_side=st.integers(min_value=1, max_value=4_000))
def test_a_fitted_size_keeps_the_aspect_within_the_long_side_and_never_enlarges(
    width: int, height: int, long_side: int
) -> None:
    fitted_width, fitted_height = fitted(width, height, long_side)

    assert 1 <= fitted_width <= width
    assert 1 <= fitted_height <= height
    assert max(fitted_width, fitted_height) == min(max(width, height), long_side)
    # Rounding the short side moves it by half a pixel at most, or keeps it one pixel wide.
    if width >= height:
        exact = height * fitted_width / width
        assert abs(fitted_height - exact) <= 0.5 or (fitted_height == 1 and exact < 1)
    else:
        exact = width * fitted_height / height
        assert abs(fitted_width - exact) <= 0.5 or (fitted_width == 1 and exact < 1)


@given(width=sides, height=sides, long_side=st.integers(min_value=1, max_value=4_000))
def test_fitting_a_turned_image_gives_the_turned_size(
    width: int, height: int, long_side: int
) -> None:
    assert fitted(height, width, long_side) == fitted(width, height, long_side)[::-1]
