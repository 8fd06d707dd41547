"""The hearing and seeing engines as configured, each remote one behind its resilience
runner; a capability no setting gives an engine answers ``CapabilityNotConfigured``."""

from __future__ import annotations

from adapters.perception.unconfigured import (
    UnconfiguredAudioConverter,
    UnconfiguredImageUnderstanding,
    UnconfiguredSignLanguageReader,
    UnconfiguredSpeechToText,
    UnconfiguredTextToSpeech,
)
from talia_core.shared.speech import AudioConverter, SpeechToText, TextToSpeech
from talia_core.shared.vision import ImageUnderstanding, SignLanguageReader

_NO_PROVIDER = "no provider is set for it"


def speech_to_text() -> SpeechToText:
    return UnconfiguredSpeechToText("speech to text", _NO_PROVIDER)


def text_to_speech() -> TextToSpeech:
    return UnconfiguredTextToSpeech("text to speech", _NO_PROVIDER)


def audio_converter() -> AudioConverter:
    return UnconfiguredAudioConverter("audio conversion", "no audio encoder is installed")


def image_understanding() -> ImageUnderstanding:
    return UnconfiguredImageUnderstanding("image understanding", _NO_PROVIDER)


def sign_language_reader() -> SignLanguageReader:
    return UnconfiguredSignLanguageReader("sign language reading", _NO_PROVIDER)
