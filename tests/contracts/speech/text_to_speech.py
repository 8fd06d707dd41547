"""The contract every ``TextToSpeech`` passes: the fake, espeak-ng run here, and each
provider's adapter against a local server speaking its wire format
(``tests/perception_servers``).

How to add an engine: write a harness (any object with the attributes of
``TextToSpeechHarness``) and subclass ``TextToSpeechContract`` in a class whose name ends
in ``Tests``, with a ``harness`` fixture; one that calls its provider over HTTP subclasses
``RemoteTextToSpeechContract`` with a harness that is also a ``RemoteEngineHarness``.
"""

from __future__ import annotations

import io
import wave
from typing import Protocol

import pytest

from talia_core.shared.errors import ExternalServiceUnavailable
from talia_core.shared.media import MediaKind, sniff
from talia_core.shared.speech import TextToSpeech
from tests.contracts.remote_engine import RemoteEngineContract

SHORT = "Hola."
LONG = "Hola, gracias por escribirnos. Tenemos citas libres el sábado por la mañana."


class TextToSpeechHarness(Protocol):
    @property
    def engine(self) -> TextToSpeech: ...

    def go_down(self) -> None:
        """Make the engine fail the next call as it does when down (a 503 for a remote one)."""
        ...


def seconds(content: bytes) -> float:
    with wave.open(io.BytesIO(content)) as read:
        frames: int = read.getnframes()
        rate: int = read.getframerate()
    return frames / rate


class TextToSpeechContract:
    async def test_text_is_spoken_as_audio_of_the_type_it_names(
        self, harness: TextToSpeechHarness
    ) -> None:
        audio = await harness.engine.synthesize(LONG, language="es")

        found = sniff(audio.content)
        assert found is not None
        assert found.kind is MediaKind.AUDIO
        assert audio.mime_type == found.mime_type

    async def test_a_longer_text_takes_longer_to_say(self, harness: TextToSpeechHarness) -> None:
        short = await harness.engine.synthesize(SHORT)
        long = await harness.engine.synthesize(LONG)

        assert 0 < seconds(short.content) < seconds(long.content)

    async def test_an_engine_that_is_down_is_unavailable(
        self, harness: TextToSpeechHarness
    ) -> None:
        harness.go_down()

        with pytest.raises(ExternalServiceUnavailable):
            await harness.engine.synthesize(SHORT)


class RemoteTextToSpeechContract(TextToSpeechContract, RemoteEngineContract):
    """A remote engine: the harness's ``call`` synthesises."""
