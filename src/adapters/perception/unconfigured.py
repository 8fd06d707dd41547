"""What answers for a capability no engine is configured for: a clear
``CapabilityNotConfigured`` on every call, never a made-up transcript or caption."""

from __future__ import annotations

from talia_core.shared.errors import CapabilityNotConfigured
from talia_core.shared.speech import Audio, Transcript
from talia_core.shared.vision import DetectedObject, Image, SignReading


class _Unconfigured:
    def __init__(self, capability: str, detail: str) -> None:
        self._error = CapabilityNotConfigured(capability, detail)

    def _refuse(self) -> CapabilityNotConfigured:
        return self._error


class UnconfiguredSpeechToText(_Unconfigured):
    async def transcribe(self, audio: Audio, *, language: str | None = None) -> Transcript:
        raise self._refuse()


class UnconfiguredTextToSpeech(_Unconfigured):
    async def synthesize(
        self, text: str, *, language: str | None = None, voice: str | None = None
    ) -> Audio:
        raise self._refuse()


class UnconfiguredImageUnderstanding(_Unconfigured):
    async def caption(self, image: Image, *, language: str | None = None) -> str:
        raise self._refuse()

    async def detect(self, image: Image) -> tuple[DetectedObject, ...]:
        raise self._refuse()


class UnconfiguredSignLanguageReader(_Unconfigured):
    async def read(self, image: Image) -> SignReading:
        raise self._refuse()
