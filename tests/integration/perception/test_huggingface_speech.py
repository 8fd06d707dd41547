"""Hugging Face's speech recognition and speech against a local server speaking its
inference wire format: what goes over the wire, and the ports' contracts."""

from __future__ import annotations

import struct
from collections.abc import Awaitable

import attrs
import pytest

from adapters.perception.huggingface_inference import InferenceModel
from adapters.perception.huggingface_speech import HuggingFaceSpeechToText, HuggingFaceTextToSpeech
from talia_core.shared.errors import ExternalServiceUnavailable, RequestRefused
from talia_core.shared.speech import PCM, Audio
from tests.contracts.speech.speech_to_text import (
    RemoteSpeechToTextContract,
    RemoteSpeechToTextHarness,
)
from tests.contracts.speech.text_to_speech import RemoteTextToSpeechContract, TextToSpeechHarness
from tests.fakeserver import Reply
from tests.integration.perception.conftest import RECOGNITION, SPEECH, Failing, hf_model
from tests.perception_servers.huggingface import TOKEN, FakeHuggingFaceInference
from tests.perception_servers.media import spoken


@attrs.define
class Hearing(Failing):
    server: FakeHuggingFaceInference

    @property
    def engine(self) -> HuggingFaceSpeechToText:
        return HuggingFaceSpeechToText(hf_model(self.server.base_url, RECOGNITION))

    def will_hear(self, text: str) -> None:
        self.server.will_hear(text)

    def call(
        self, *, base_url: str | None = None, timeout_seconds: float = 5.0
    ) -> Awaitable[object]:
        url = base_url or self.server.base_url
        engine = HuggingFaceSpeechToText(
            hf_model(url, RECOGNITION, timeout_seconds=timeout_seconds)
        )
        return engine.transcribe(Audio(spoken(), "audio/wav"))


@attrs.define
class Speaking(Failing):
    server: FakeHuggingFaceInference

    @property
    def engine(self) -> HuggingFaceTextToSpeech:
        return HuggingFaceTextToSpeech(hf_model(self.server.base_url, SPEECH))

    def call(
        self, *, base_url: str | None = None, timeout_seconds: float = 5.0
    ) -> Awaitable[object]:
        url = base_url or self.server.base_url
        engine = HuggingFaceTextToSpeech(hf_model(url, SPEECH, timeout_seconds=timeout_seconds))
        return engine.synthesize("Hola.")


class HuggingFaceSpeechToTextTests(RemoteSpeechToTextContract):
    @pytest.fixture
    def harness(self, hugging_face: FakeHuggingFaceInference) -> RemoteSpeechToTextHarness:
        return Hearing(hugging_face)


class HuggingFaceTextToSpeechTests(RemoteTextToSpeechContract):
    @pytest.fixture
    def harness(self, hugging_face: FakeHuggingFaceInference) -> TextToSpeechHarness:
        return Speaking(hugging_face)


# ------------------------------------------------------------------------------ the wire


async def test_audio_is_posted_raw_to_the_models_url_with_its_type_and_the_token(
    hugging_face: FakeHuggingFaceInference,
) -> None:
    hugging_face.will_hear("buenas tardes")
    audio = spoken()

    heard = await Hearing(hugging_face).engine.transcribe(Audio(audio, "audio/x-wav"))

    [request] = hugging_face.requests
    assert (request.method, request.path) == ("POST", f"/models/{RECOGNITION}")
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["content-type"] == "audio/wav"
    assert request.body == audio
    assert heard.text == "buenas tardes"


async def test_raw_pcm_is_sent_as_a_wav_of_its_rate(
    hugging_face: FakeHuggingFaceInference,
) -> None:
    samples = b"\x10\x00" * 1600

    await Hearing(hugging_face).engine.transcribe(Audio(samples, PCM, 16_000))

    [request] = hugging_face.requests
    assert request.body[:4] == b"RIFF"
    assert request.body.endswith(samples)
    (rate,) = struct.unpack("<I", request.body[24:28])
    assert rate == 16_000


async def test_text_is_sent_as_inputs_and_the_audio_kept_as_answered(
    hugging_face: FakeHuggingFaceInference,
) -> None:
    audio = await Speaking(hugging_face).engine.synthesize("Hola, ¿cómo estás?")

    [request] = hugging_face.requests
    assert request.path == f"/models/{SPEECH}"
    assert request.json() == {"inputs": "Hola, ¿cómo estás?", "parameters": {}}
    assert audio.mime_type == "audio/wav"


async def test_audio_answered_as_flac_says_so(hugging_face: FakeHuggingFaceInference) -> None:
    flac = b"fLaC\x00\x00\x00\x22" + bytes(34)
    hugging_face.answer_next(Reply(200, flac, {"Content-Type": "audio/flac"}))

    audio = await Speaking(hugging_face).engine.synthesize("Hola.")

    assert (audio.content, audio.mime_type) == (flac, "audio/flac")


async def test_an_answer_that_is_not_audio_is_unavailable(
    hugging_face: FakeHuggingFaceInference,
) -> None:
    hugging_face.answer_next(Reply(200, b"<html>maintenance</html>", {"Content-Type": "text/html"}))

    with pytest.raises(ExternalServiceUnavailable, match="not audio"):
        await Speaking(hugging_face).engine.synthesize("Hola.")


async def test_a_transcript_answer_without_its_text_is_unavailable(
    hugging_face: FakeHuggingFaceInference,
) -> None:
    hugging_face.answer_next(Reply(200, {"chunks": []}))

    with pytest.raises(ExternalServiceUnavailable, match="unreadable"):
        await Hearing(hugging_face).engine.transcribe(Audio(spoken(), "audio/wav"))


async def test_an_unknown_model_is_refused(hugging_face: FakeHuggingFaceInference) -> None:
    engine = HuggingFaceSpeechToText(hf_model(hugging_face.base_url, "nobody/nothing"))

    with pytest.raises(RequestRefused, match="404"):
        await engine.transcribe(Audio(spoken(), "audio/wav"))


async def test_a_wrong_token_is_unavailable_until_an_operator_fixes_it(
    hugging_face: FakeHuggingFaceInference,
) -> None:
    wrong = InferenceModel(token="hf_wrong", model=RECOGNITION, inference_url=hugging_face.base_url)

    with pytest.raises(ExternalServiceUnavailable, match="credentials were refused"):
        await HuggingFaceSpeechToText(wrong).transcribe(Audio(spoken(), "audio/wav"))
