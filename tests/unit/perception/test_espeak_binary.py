"""What espeak-ng's adapter does without running espeak-ng: a missing binary, voice names,
and the sizes of the WAV it streams."""

from __future__ import annotations

import io
import stat
import struct
import wave
from pathlib import Path

import pytest

from adapters.perception.espeak import EspeakTextToSpeech, sized
from talia_core.shared.errors import CapabilityNotConfigured, RuleViolated
from tests.perception_servers.media import spoken


async def test_without_the_binary_speech_is_not_configured_naming_the_package() -> None:
    engine = EspeakTextToSpeech(binary="espeak-ng-not-installed-here")

    with pytest.raises(CapabilityNotConfigured, match="apt-get install espeak-ng"):
        await engine.synthesize("hola")


@pytest.mark.parametrize("voice", ["es 419", "-w/tmp/x", " ", "a" * 41])
async def test_a_voice_that_is_not_a_voice_name_is_refused_before_anything_runs(
    voice: str,
) -> None:
    engine = EspeakTextToSpeech(binary="espeak-ng-not-installed-here")

    with pytest.raises(RuleViolated):
        await engine.synthesize("hola", voice=voice)


def test_a_streamed_wav_is_given_its_real_sizes() -> None:
    whole = spoken(0.3)
    streamed = whole[:4] + b"\x24\xf0\xff\x7f" + whole[8:40] + b"\x00\xf0\xff\x7f" + whole[44:]

    fixed = sized(streamed)

    assert fixed == whole
    with wave.open(io.BytesIO(fixed)) as read:
        assert read.getnframes() == (len(whole) - 44) // 2
    assert struct.unpack("<I", fixed[4:8])[0] == len(whole) - 8


def test_a_wav_without_its_data_chunk_is_left_as_it_is() -> None:
    assert sized(b"RIFF\x04\x00\x00\x00WAVE") == b"RIFF\x04\x00\x00\x00WAVE"


@pytest.mark.parametrize(
    ("language", "voice", "spoken_in"),
    [
        (None, None, "es-419"),
        ("es", None, "es-419"),
        ("es-PE", None, "es-419"),
        ("en", None, "en"),
        ("es", "es-es", "es-es"),
    ],
)
async def test_the_configured_voice_speaks_its_own_language_and_a_call_may_ask_another(
    tmp_path: Path, language: str | None, voice: str | None, spoken_in: str
) -> None:
    told = tmp_path / "told"
    recorder = tmp_path / "espeak-ng"
    recorder.write_text(f'#!/bin/sh\necho "$@" > {told}\nprintf RIFF\n')
    recorder.chmod(recorder.stat().st_mode | stat.S_IXUSR)
    engine = EspeakTextToSpeech(voice="es-419", binary=str(recorder))

    await engine.synthesize("hola", language=language, voice=voice)

    assert told.read_text().split()[:2] == ["-v", spoken_in]
