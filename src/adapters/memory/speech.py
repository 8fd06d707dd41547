"""Fakes of the speech ports for tests, passing the ports' contracts
(``tests/contracts/speech/``):

    stt = FakeSpeechToText("hola")         # what it hears in any audio
    stt.will_hear("quiero una cita")       # the next transcript, then back to the default
    stt.fail_with(ExternalServiceUnavailable("stt", "down"))
    stt.heard                               # the audio it was given

    tts = FakeTextToSpeech()
    audio = await tts.synthesize("hola")   # a real WAV: a tone as long as the words would be
    tts.spoken                              # the texts it was asked to say

The fake recogniser refuses what is not audio as the real ones do; the fake synthesiser's
WAV is real audio (16 kHz, 16-bit mono), so what plays it, converts it or streams it is
exercised for real.
"""

from __future__ import annotations

import io
import math
import wave
from collections import deque

from talia_core.shared.errors import TaliaError
from talia_core.shared.media import MediaKind, NotMedia, sniff
from talia_core.shared.speech import MULAW, PCM, Audio, Transcript

RATE = 16_000
SECONDS_PER_CHARACTER = 0.06
"""About how long a character takes to say at a conversational pace."""


class FakeSpeechToText:
    def __init__(self, hears: str = "hola", *, language: str = "es") -> None:
        self._default = hears
        self._language = language
        self._next: deque[str] = deque()
        self._failure: TaliaError | None = None
        self.heard: list[Audio] = []

    def will_hear(self, *texts: str) -> None:
        self._next.extend(texts)

    def fail_with(self, error: TaliaError | None) -> None:
        """Every call raises ``error`` until it is set back to ``None``."""
        self._failure = error

    async def transcribe(self, audio: Audio, *, language: str | None = None) -> Transcript:
        if self._failure is not None:
            raise self._failure
        if audio.mime_type not in (PCM, MULAW):
            found = sniff(audio.content)
            if found is None or found.kind is not MediaKind.AUDIO:
                raise NotMedia("the file is not audio")
        self.heard.append(audio)
        text = self._next.popleft() if self._next else self._default
        return Transcript(text, language or self._language, _duration(audio))


class FakeTextToSpeech:
    def __init__(self) -> None:
        self._failure: TaliaError | None = None
        self.spoken: list[str] = []

    def fail_with(self, error: TaliaError | None) -> None:
        self._failure = error

    async def synthesize(
        self, text: str, *, language: str | None = None, voice: str | None = None
    ) -> Audio:
        if self._failure is not None:
            raise self._failure
        self.spoken.append(text)
        return Audio(tone(max(0.2, len(text) * SECONDS_PER_CHARACTER)), "audio/wav")


def tone(seconds: float, *, hertz: float = 220.0, rate: int = RATE) -> bytes:
    """A WAV of a sine tone: audio that is not silence, for what listens for speech."""
    frames = int(seconds * rate)
    samples = bytearray()
    for n in range(frames):
        value = int(8000 * math.sin(2 * math.pi * hertz * n / rate))
        samples += value.to_bytes(2, "little", signed=True)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(bytes(samples))
    return buffer.getvalue()


def _duration(audio: Audio) -> float | None:
    if audio.mime_type == PCM and audio.sample_rate:
        return len(audio.content) / 2 / audio.sample_rate
    if audio.mime_type == MULAW and audio.sample_rate:
        return len(audio.content) / audio.sample_rate
    if audio.content[:4] == b"RIFF":
        try:
            with wave.open(io.BytesIO(audio.content)) as read:
                frames: int = read.getnframes()
                rate: int = read.getframerate()
                return frames / rate
        except (wave.Error, EOFError):
            return None
    return None
