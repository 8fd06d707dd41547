"""The contract every ``SpeechToText`` passes: the fake, and each provider's adapter against
a local server speaking its wire format (``tests/perception_servers``).

How to add an engine: write a harness (any object with the attributes of
``SpeechToTextHarness``) and subclass ``SpeechToTextContract`` in a class whose name ends
in ``Tests``, with a ``harness`` fixture. An engine that calls its provider over HTTP
subclasses ``RemoteSpeechToTextContract`` with a harness that is also a
``RemoteSpeechToTextHarness``, and so also runs what the network does to it.
``tests/unit/perception/test_fakes.py`` and ``tests/integration/perception/`` are the
examples.
"""

from __future__ import annotations

import struct
from typing import Protocol

import pytest

from talia_core.shared.errors import ExternalServiceUnavailable
from talia_core.shared.media import NotMedia
from talia_core.shared.speech import MULAW, PCM, Audio, SpeechToText
from tests.contracts.remote_engine import RemoteEngineContract, RemoteEngineHarness
from tests.perception_servers.media import photo, spoken

WORDS = "quisiera reservar una cita para el sábado"
NOT_AUDIO = [
    pytest.param(b"hola, esto es texto", id="text"),
    pytest.param(photo().content, id="an image"),
    pytest.param(b"", id="nothing"),
]


class SpeechToTextHarness(Protocol):
    @property
    def engine(self) -> SpeechToText: ...

    def will_hear(self, text: str) -> None:
        """The words the engine hears in the next audio it is given."""
        ...

    def go_down(self) -> None:
        """Make the engine fail the next call as it does when down (a 503 for a remote one)."""
        ...


class RemoteSpeechToTextHarness(SpeechToTextHarness, RemoteEngineHarness, Protocol):
    """A harness whose ``call`` transcribes."""


def samples(count: int = 8000) -> bytes:
    """Raw 16-bit samples of a ramp: not silence."""
    return b"".join(struct.pack("<h", (n * 37) % 20000 - 10000) for n in range(count))


class SpeechToTextContract:
    async def test_the_words_spoken_come_back_as_the_transcript(
        self, harness: SpeechToTextHarness
    ) -> None:
        harness.will_hear(WORDS)

        heard = await harness.engine.transcribe(Audio(spoken(), "audio/wav"), language="es")

        assert heard.text == WORDS

    async def test_raw_pcm_with_its_rate_is_heard(self, harness: SpeechToTextHarness) -> None:
        harness.will_hear(WORDS)

        heard = await harness.engine.transcribe(Audio(samples(), PCM, 16_000))

        assert heard.text == WORDS

    async def test_mulaw_from_a_phone_line_is_heard(self, harness: SpeechToTextHarness) -> None:
        harness.will_hear(WORDS)

        heard = await harness.engine.transcribe(Audio(bytes(range(256)) * 32, MULAW, 8000))

        assert heard.text == WORDS

    @pytest.mark.parametrize("content", NOT_AUDIO)
    async def test_bytes_that_are_not_audio_are_not_media(
        self, harness: SpeechToTextHarness, content: bytes
    ) -> None:
        with pytest.raises(NotMedia):
            await harness.engine.transcribe(Audio(content, "audio/ogg"))

    async def test_an_engine_that_is_down_is_unavailable(
        self, harness: SpeechToTextHarness
    ) -> None:
        harness.go_down()

        with pytest.raises(ExternalServiceUnavailable):
            await harness.engine.transcribe(Audio(spoken(), "audio/wav"))


class RemoteSpeechToTextContract(SpeechToTextContract, RemoteEngineContract):
    async def test_what_is_not_audio_is_refused_without_asking_the_provider(
        self, harness: RemoteSpeechToTextHarness
    ) -> None:
        with pytest.raises(NotMedia):
            await harness.engine.transcribe(Audio(b"<html>no</html>", "audio/mpeg"))

        assert harness.requests() == 0

    async def test_a_file_the_provider_cannot_decode_is_not_media(
        self, harness: RemoteSpeechToTextHarness
    ) -> None:
        broken = b"RIFF\x24\x00\x00\x00WAVE" + b"\x00" * 24  # a WAV without a format

        with pytest.raises(NotMedia, match="could not read"):
            await harness.engine.transcribe(Audio(broken, "audio/wav"))

        assert harness.requests() == 1
