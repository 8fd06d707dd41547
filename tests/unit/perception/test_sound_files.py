"""Audio as the engines are sent it and the type of what they answer."""

from __future__ import annotations

import io
import struct
import wave

import pytest

from adapters.perception.sound_files import as_file, audio_type
from talia_core.shared.media import NotMedia
from talia_core.shared.speech import MULAW, PCM, Audio
from tests.perception_servers.media import photo, spoken


def test_raw_pcm_goes_out_as_a_wav_of_its_rate_holding_the_same_samples() -> None:
    samples = struct.pack("<4h", 0, 1000, -1000, 32767)

    content, file_type = as_file(Audio(samples, PCM, 16_000))

    assert file_type == "audio/wav"
    with wave.open(io.BytesIO(content)) as read:
        assert (read.getframerate(), read.getnchannels(), read.getsampwidth()) == (16_000, 1, 2)
        assert read.readframes(read.getnframes()) == samples


def test_mulaw_goes_out_as_a_wav_of_format_seven_at_its_rate() -> None:
    samples = bytes(range(160))

    content, _ = as_file(Audio(samples, MULAW, 8000))

    tag, channels, rate, byte_rate, align, bits = struct.unpack("<HHIIHH", content[20:36])
    assert (tag, channels, rate, byte_rate, align, bits) == (7, 1, 8000, 8000, 1, 8)
    assert content[36:40] == b"data"
    assert struct.unpack("<I", content[40:44])[0] == len(samples)
    assert content[44:] == samples


def test_a_container_goes_out_as_it_is_with_the_type_its_bytes_say() -> None:
    wav = spoken()

    assert as_file(Audio(wav, "application/octet-stream")) == (wav, "audio/wav")


@pytest.mark.parametrize(
    "audio",
    [
        Audio(b"", PCM, 16_000),
        Audio(b"\x00\x01", PCM),
        Audio(photo().content, "audio/ogg"),
        Audio(b"fLaC" + bytes(40), "audio/flac"),
    ],
    ids=["no samples", "raw without its rate", "an image", "flac, which is not taken"],
)
def test_what_cannot_be_sent_as_audio_is_not_media(audio: Audio) -> None:
    with pytest.raises(NotMedia):
        as_file(audio)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"fLaC\x00\x00\x00\x22", "audio/flac"),
        (spoken(), "audio/wav"),
        (b"OggS" + bytes(40), "audio/ogg"),
        (b"{}", None),
        (photo().content, None),
    ],
)
def test_the_type_of_audio_answered_is_told_by_its_bytes(
    content: bytes, expected: str | None
) -> None:
    assert audio_type(content) == expected
