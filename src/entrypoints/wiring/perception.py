"""The hearing and seeing engines as configured (``TALIA_PERCEPTION__*``), each remote one
behind its own resilience runner (``{provider}-{capability}``); a capability no setting
gives an engine, or whose provider lacks its credentials, answers
``CapabilityNotConfigured``. espeak-ng runs here and needs no runner. A provider's module,
and the SDK it runs on, is imported only when an engine on it is built."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

import httpx

from adapters.audio.pyav import PyAVAudioConverter
from adapters.language.openai import sdk_client
from adapters.perception.espeak import DEFAULT_VOICE, EspeakTextToSpeech
from adapters.perception.unconfigured import (
    UnconfiguredImageUnderstanding,
    UnconfiguredSignLanguageReader,
    UnconfiguredSpeechToText,
    UnconfiguredTextToSpeech,
)
from adapters.resilience import BreakerBoard, resilient
from entrypoints.settings import Settings
from entrypoints.settings.perception import RemoteEngine, SignEngine, SpeechEngine
from entrypoints.wiring.policies import runner
from talia_core.shared.speech import AudioConverter, SpeechToText, TextToSpeech
from talia_core.shared.vision import ImageUnderstanding, SignLanguageReader

if TYPE_CHECKING:
    from openai import AsyncOpenAI

    from adapters.perception.huggingface_inference import InferenceModel

_NO_PROVIDER = "no provider is set for it"
_NO_KEY = {
    "openai": "TALIA_OPENAI__API_KEY is empty",
    "huggingface": "TALIA_HUGGINGFACE__TOKEN is empty",
}
STT, TTS, IMAGES, SIGNS = (
    "speech to text",
    "text to speech",
    "image understanding",
    "sign language reading",
)
T = TypeVar("T")


def speech_to_text(
    settings: Settings, client: httpx.AsyncClient, board: BreakerBoard
) -> SpeechToText:
    chosen, model = settings.perception.speech_to_text, settings.perception.speech_to_text_model
    if chosen is RemoteEngine.OPENAI and (sdk := _openai(settings, client)):
        from adapters.perception import openai_speech

        engine: SpeechToText = openai_speech.OpenAISpeechToText(
            sdk, model=model or openai_speech.DEFAULT_TRANSCRIPTION_MODEL
        )
    elif chosen is RemoteEngine.HUGGINGFACE and _has_token(settings):
        from adapters.perception import huggingface_speech

        engine = huggingface_speech.HuggingFaceSpeechToText(
            _inference(settings, model or huggingface_speech.DEFAULT_RECOGNITION_MODEL)
        )
    else:
        return UnconfiguredSpeechToText(STT, _NO_KEY.get(chosen, _NO_PROVIDER))
    return _behind(engine, f"{chosen}-speech-to-text", settings, board)


def text_to_speech(
    settings: Settings, client: httpx.AsyncClient, board: BreakerBoard
) -> TextToSpeech:
    perception = settings.perception
    chosen, model = perception.text_to_speech, perception.text_to_speech_model
    if chosen is SpeechEngine.ESPEAK:
        return EspeakTextToSpeech(
            voice=perception.voice or DEFAULT_VOICE,
            timeout_seconds=perception.espeak_timeout_seconds,
        )
    if chosen is SpeechEngine.OPENAI and (sdk := _openai(settings, client)):
        from adapters.perception import openai_speech

        engine: TextToSpeech = openai_speech.OpenAITextToSpeech(
            sdk,
            model=model or openai_speech.DEFAULT_SPEECH_MODEL,
            voice=perception.voice or openai_speech.DEFAULT_VOICE,
        )
    elif chosen is SpeechEngine.HUGGINGFACE and _has_token(settings):
        from adapters.perception import huggingface_speech

        engine = huggingface_speech.HuggingFaceTextToSpeech(
            _inference(settings, model or huggingface_speech.DEFAULT_SPEECH_MODEL)
        )
    else:
        return UnconfiguredTextToSpeech(TTS, _NO_KEY.get(chosen, _NO_PROVIDER))
    return _behind(engine, f"{chosen}-text-to-speech", settings, board)


def audio_converter() -> AudioConverter:
    return PyAVAudioConverter()


def image_understanding(
    settings: Settings, client: httpx.AsyncClient, board: BreakerBoard
) -> ImageUnderstanding:
    perception = settings.perception
    chosen, model = perception.images, perception.caption_model
    if chosen is RemoteEngine.OPENAI and (sdk := _openai(settings, client)):
        from adapters.perception import openai_vision

        engine: ImageUnderstanding = openai_vision.OpenAIImageUnderstanding(
            sdk, model=model or openai_vision.DEFAULT_MODEL
        )
    elif chosen is RemoteEngine.HUGGINGFACE and _has_token(settings):
        from adapters.perception import huggingface_vision

        engine = huggingface_vision.HuggingFaceImageUnderstanding(
            captions=_inference(settings, model or huggingface_vision.DEFAULT_CAPTION_MODEL),
            detections=_inference(
                settings, perception.detection_model or huggingface_vision.DEFAULT_DETECTION_MODEL
            ),
        )
    else:
        return UnconfiguredImageUnderstanding(IMAGES, _NO_KEY.get(chosen, _NO_PROVIDER))
    return _behind(engine, f"{chosen}-images", settings, board)


def sign_language_reader(settings: Settings, board: BreakerBoard) -> SignLanguageReader:
    chosen = settings.perception.signs
    if chosen is SignEngine.HUGGINGFACE and _has_token(settings):
        from adapters.perception.huggingface_vision import HuggingFaceSignLanguageReader

        reader = HuggingFaceSignLanguageReader(_inference(settings, settings.perception.sign_model))
        return _behind(reader, "huggingface-signs", settings, board)
    return UnconfiguredSignLanguageReader(SIGNS, _NO_KEY.get(chosen, _NO_PROVIDER))


def _openai(settings: Settings, client: httpx.AsyncClient) -> AsyncOpenAI | None:
    """OpenAI's SDK on the shared client; None without an API key."""
    key = settings.openai.api_key.get_secret_value()
    return sdk_client(client, api_key=key, base_url=settings.openai.base_url)


def _has_token(settings: Settings) -> bool:
    return bool(settings.huggingface.token.get_secret_value())


def _inference(settings: Settings, model: str) -> InferenceModel:
    from adapters.perception.huggingface_inference import InferenceModel

    return InferenceModel(
        token=settings.huggingface.token.get_secret_value(),
        model=model,
        inference_url=settings.perception.huggingface_url,
        timeout_seconds=settings.resilience.timeout_seconds,
    )


def _behind(engine: T, name: str, settings: Settings, board: BreakerBoard) -> T:
    return resilient(engine, runner(name, board, settings))
