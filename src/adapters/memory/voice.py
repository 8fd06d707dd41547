"""Fakes of the voice channel's ports for tests, passing their contracts
(``tests/contracts/voice/``):

    activity = FakeVoiceActivity()          # speech is any frame louder than a whisper
    transfers = FakeCallTransfers()
    transfers.fail_with(ExternalServiceUnavailable("twilio", "down"))
    transfers.transferred                   # the calls put through, in order
    greetings = FakeCallGreetings("Hola, ¿en qué le ayudo?")
"""

from __future__ import annotations

from adapters.audio.pcm import loudness, mulaw_to_pcm
from adapters.audio.vad import FRAME_BYTES
from talia_core.shared.errors import TaliaError

LOUD = 400
"""The RMS of 16-bit samples above which a frame is speech (a voice is thousands)."""


class FakeVoiceActivity:
    def detector(self) -> FakeSpeechDetector:
        return FakeSpeechDetector()


class FakeSpeechDetector:
    def is_speech(self, frame: bytes) -> bool:
        if len(frame) != FRAME_BYTES:
            return False
        return loudness(mulaw_to_pcm(frame)) > LOUD


class FakeCallTransfers:
    def __init__(self) -> None:
        self._failure: TaliaError | None = None
        self.transferred: list[str] = []

    def fail_with(self, error: TaliaError | None) -> None:
        """Every call raises ``error`` until it is set back to ``None``."""
        self._failure = error

    async def transfer(self, call_id: str) -> None:
        if self._failure is not None:
            raise self._failure
        self.transferred.append(call_id)


class FakeCallGreetings:
    def __init__(
        self, greeting: str = "Hola, gracias por llamar. ¿En qué le puedo ayudar?"
    ) -> None:
        self.text = greeting

    async def greeting(self) -> str:
        return self.text
