"""espeak-ng run for real (Debian's ``espeak-ng``, installed by ``.ci/run``): the text to
speech contract, and what it does with what it is given. Without the binary these tests
skip, except under CI=true, where they fail."""

from __future__ import annotations

import io
import os
import stat
import wave
from pathlib import Path

import attrs
import pytest

from adapters.perception.espeak import EspeakTextToSpeech
from talia_core.shared.errors import ExternalServiceUnavailable, RuleViolated
from tests.contracts.speech.text_to_speech import TextToSpeechContract, TextToSpeechHarness
from tests.prerequisites import espeak


@pytest.fixture(autouse=True)
def espeak_ng() -> str:
    return espeak()


@attrs.define
class Speaking:
    engine: EspeakTextToSpeech = attrs.field(factory=EspeakTextToSpeech)

    def go_down(self) -> None:
        self.engine = EspeakTextToSpeech(binary="false")  # exits 1 and says nothing


class EspeakTextToSpeechTests(TextToSpeechContract):
    @pytest.fixture
    def harness(self) -> TextToSpeechHarness:
        return Speaking()


def frames(content: bytes) -> tuple[int, int]:
    """The frames the header declares, and those the file holds."""
    with wave.open(io.BytesIO(content)) as read:
        declared = read.getnframes()
        held = len(read.readframes(declared + 1_000_000)) // read.getsampwidth()
    return declared, held


async def test_the_wav_header_declares_the_length_it_holds() -> None:
    audio = await EspeakTextToSpeech().synthesize("Su cita es el sábado a las diez.")

    declared, held = frames(audio.content)
    assert declared == held > 22_050 // 2


@pytest.mark.parametrize("text", ["--help", "-w {written} hola", "$(touch {written}); hola"])
async def test_text_is_spoken_as_text_never_read_as_options(text: str, tmp_path: Path) -> None:
    written = tmp_path / "written.wav"

    audio = await EspeakTextToSpeech().synthesize(text.format(written=written))

    assert audio.content.startswith(b"RIFF")
    assert frames(audio.content)[1] > 0
    assert not os.listdir(tmp_path)


async def test_a_call_may_ask_for_another_language() -> None:
    english = await EspeakTextToSpeech().synthesize("Good morning", language="en")

    assert frames(english.content)[1] > 0


async def test_a_voice_espeak_does_not_have_is_refused() -> None:
    with pytest.raises(RuleViolated, match="xx-nope"):
        await EspeakTextToSpeech().synthesize("hola", voice="xx-nope")


async def test_speaking_past_the_timeout_is_stopped_as_unavailable(tmp_path: Path) -> None:
    stuck = tmp_path / "espeak-ng"
    stuck.write_text("#!/bin/sh\nexec sleep 30\n")
    stuck.chmod(stuck.stat().st_mode | stat.S_IXUSR)
    engine = EspeakTextToSpeech(binary=str(stuck), timeout_seconds=0.3)

    with pytest.raises(ExternalServiceUnavailable, match="too long"):
        await engine.synthesize("hola")
