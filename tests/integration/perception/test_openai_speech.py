"""OpenAI's transcriptions and speech against a local server speaking its wire format: what
goes over the wire, and the ports' contracts."""

from __future__ import annotations

from collections.abc import Awaitable

import attrs
import pytest

from adapters.perception.openai_speech import OpenAISpeechToText, OpenAITextToSpeech
from talia_core.shared.errors import ExternalServiceUnavailable
from talia_core.shared.speech import MULAW, Audio
from tests.contracts.speech.speech_to_text import (
    RemoteSpeechToTextContract,
    RemoteSpeechToTextHarness,
)
from tests.contracts.speech.text_to_speech import RemoteTextToSpeechContract, TextToSpeechHarness
from tests.fakeserver import Reply
from tests.integration.perception.conftest import Failing, OpenAIClients
from tests.perception_servers.media import spoken
from tests.perception_servers.openai import API_KEY, FakeOpenAIPerception, multipart

TRANSCRIBER = "gpt-4o-mini-transcribe"


@attrs.define
class Hearing(Failing):
    server: FakeOpenAIPerception
    clients: OpenAIClients

    @property
    def engine(self) -> OpenAISpeechToText:
        return OpenAISpeechToText(self.clients.sdk(self.server.base_url), model=TRANSCRIBER)

    def will_hear(self, text: str) -> None:
        self.server.will_hear(text)

    def call(
        self, *, base_url: str | None = None, timeout_seconds: float = 5.0
    ) -> Awaitable[object]:
        sdk = self.clients.sdk(base_url or self.server.base_url, timeout_seconds=timeout_seconds)
        return OpenAISpeechToText(sdk).transcribe(Audio(spoken(), "audio/wav"))


@attrs.define
class Speaking(Failing):
    server: FakeOpenAIPerception
    clients: OpenAIClients

    @property
    def engine(self) -> OpenAITextToSpeech:
        return OpenAITextToSpeech(self.clients.sdk(self.server.base_url), voice="nova")

    def call(
        self, *, base_url: str | None = None, timeout_seconds: float = 5.0
    ) -> Awaitable[object]:
        sdk = self.clients.sdk(base_url or self.server.base_url, timeout_seconds=timeout_seconds)
        return OpenAITextToSpeech(sdk).synthesize("Hola.")


class OpenAISpeechToTextTests(RemoteSpeechToTextContract):
    @pytest.fixture
    def harness(
        self, openai_server: FakeOpenAIPerception, openai_clients: OpenAIClients
    ) -> RemoteSpeechToTextHarness:
        return Hearing(openai_server, openai_clients)


class OpenAITextToSpeechTests(RemoteTextToSpeechContract):
    @pytest.fixture
    def harness(
        self, openai_server: FakeOpenAIPerception, openai_clients: OpenAIClients
    ) -> TextToSpeechHarness:
        return Speaking(openai_server, openai_clients)


# ------------------------------------------------------------------------------ the wire


async def test_audio_is_uploaded_as_a_file_with_the_model_and_the_language_hint(
    openai_server: FakeOpenAIPerception, openai_clients: OpenAIClients
) -> None:
    openai_server.will_hear("quiero una cita")
    audio = spoken()

    heard = await Hearing(openai_server, openai_clients).engine.transcribe(
        Audio(audio, "audio/wav"), language="es"
    )

    [request] = openai_server.requests
    assert (request.method, request.path) == ("POST", "/v1/audio/transcriptions")
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    parts = multipart(request)
    assert parts["file"] == (audio, "audio.wav")
    assert {name: parts[name][0] for name in ("model", "language", "response_format")} == {
        "model": TRANSCRIBER.encode(),
        "language": b"es",
        "response_format": b"json",
    }
    assert (heard.text, heard.language) == ("quiero una cita", "es")


async def test_mulaw_is_uploaded_as_a_wav(
    openai_server: FakeOpenAIPerception, openai_clients: OpenAIClients
) -> None:
    samples = bytes(range(256)) * 8

    await Hearing(openai_server, openai_clients).engine.transcribe(Audio(samples, MULAW, 8000))

    content, name = multipart(openai_server.requests[0])["file"]
    assert name == "audio.wav"
    assert content[:4] == b"RIFF"
    assert content.endswith(samples)


async def test_speech_is_asked_as_wav_in_the_voice_set(
    openai_server: FakeOpenAIPerception, openai_clients: OpenAIClients
) -> None:
    engine = Speaking(openai_server, openai_clients).engine

    first = await engine.synthesize("Hola, ¿en qué te ayudo?")
    await engine.synthesize("Hola.", voice="ash")

    assert [request.json() for request in openai_server.requests] == [
        {
            "model": "gpt-4o-mini-tts",
            "voice": "nova",
            "input": "Hola, ¿en qué te ayudo?",
            "response_format": "wav",
        },
        {"model": "gpt-4o-mini-tts", "voice": "ash", "input": "Hola.", "response_format": "wav"},
    ]
    assert first.mime_type == "audio/wav"


async def test_speech_that_is_not_audio_is_unavailable(
    openai_server: FakeOpenAIPerception, openai_clients: OpenAIClients
) -> None:
    openai_server.answer_next(Reply(200, b"{}", {"Content-Type": "application/json"}))

    with pytest.raises(ExternalServiceUnavailable, match="unreadable"):
        await Speaking(openai_server, openai_clients).engine.synthesize("Hola.")
