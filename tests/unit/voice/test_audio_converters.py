"""The ``AudioConverter`` contract on PyAV and on the fake; PyAV's converter without PyAV."""

from __future__ import annotations

import types

import pytest

from adapters.audio.pyav import PyAVAudioConverter
from adapters.memory.audio import FakeAudioConverter
from adapters.memory.speech import tone
from talia_core.shared.errors import CapabilityNotConfigured
from talia_core.shared.speech import Audio, AudioFormat
from tests.contracts.speech.audio_converter import AudioConverterContract, CodecContract


class PyAVAudioConverterTests(CodecContract):
    @pytest.fixture
    def converter(self) -> PyAVAudioConverter:
        return PyAVAudioConverter()


class FakeAudioConverterTests(AudioConverterContract):
    @pytest.fixture
    def converter(self) -> FakeAudioConverter:
        return FakeAudioConverter()


def _not_installed() -> types.ModuleType:
    raise ImportError("No module named 'av'")


async def test_without_pyav_wav_and_phone_audio_still_convert() -> None:
    converter = PyAVAudioConverter(load=_not_installed)

    line = await converter.convert(Audio(tone(0.5), "audio/wav"), AudioFormat.MULAW_8K)

    assert len(line.content) == 4000


@pytest.mark.parametrize("target", [AudioFormat.OGG_OPUS, AudioFormat.MP3])
async def test_without_pyav_a_compressed_target_names_the_extra_to_install(
    target: AudioFormat,
) -> None:
    converter = PyAVAudioConverter(load=_not_installed)

    with pytest.raises(CapabilityNotConfigured, match=r"talia\[audio\]"):
        await converter.convert(Audio(tone(0.5), "audio/wav"), target)


async def test_without_pyav_a_compressed_file_names_the_extra_to_install() -> None:
    voice_note = await PyAVAudioConverter().convert(Audio(tone(0.5), "audio/wav"), AudioFormat.MP3)

    with pytest.raises(CapabilityNotConfigured, match=r"talia\[audio\]"):
        await PyAVAudioConverter(load=_not_installed).convert(voice_note, AudioFormat.WAV)
