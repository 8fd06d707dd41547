"""Hearing and speaking: the ``SpeechToText``, ``TextToSpeech`` and ``AudioConverter`` ports.

Conversations transcribe voice notes and answer with voice, the voice channel listens and
speaks on a phone line, and the direct AI routes do both for frontends: the ports live in
the shared kernel so every context may take them. Audio travels as bytes with their MIME
type; raw 16-bit PCM (``audio/L16``, little-endian, mono) says its rate, since it carries
no header.
"""

from __future__ import annotations

import enum
from typing import Protocol

import attrs

PCM = "audio/L16"
"""Raw signed 16-bit little-endian mono samples, the rate given by ``Audio.sample_rate``."""
MULAW = "audio/basic"
"""G.711 μ-law, 8 kHz mono: what a phone line (Twilio Media Streams) carries."""


@attrs.frozen
class Audio:
    """Sound as bytes of a container (WAV, MP3, Ogg/Opus, FLAC, M4A) or raw PCM/μ-law."""

    content: bytes = attrs.field(repr=lambda c: f"<{len(c)} bytes>")
    mime_type: str
    sample_rate: int | None = None
    """Required for raw ``PCM`` and ``MULAW``; read from the header for containers."""


@attrs.frozen
class Transcript:
    text: str
    language: str | None = None
    """The language heard (ISO 639-1), when the engine says."""
    duration_seconds: float | None = None


class SpeechToText(Protocol):
    async def transcribe(self, audio: Audio, *, language: str | None = None) -> Transcript:
        """The words spoken in ``audio``; ``language`` is a hint (ISO 639-1). Audio the
        engine cannot read is ``NotMedia``; an engine that is down,
        ``ExternalServiceUnavailable``."""
        ...


class TextToSpeech(Protocol):
    async def synthesize(
        self, text: str, *, language: str | None = None, voice: str | None = None
    ) -> Audio:
        """``text`` spoken, in whatever container the engine produces (its MIME type says
        which); ``voice`` names one of the engine's voices, its default when ``None``."""
        ...


class AudioFormat(enum.StrEnum):
    """What a listener takes: a WhatsApp voice note, a browser, a phone line."""

    OGG_OPUS = "ogg_opus"
    MP3 = "mp3"
    WAV = "wav"
    PCM_16K = "pcm_16k"
    """Raw PCM at 16 kHz: what speech recognisers and voice activity detectors read."""
    MULAW_8K = "mulaw_8k"

    @property
    def mime_type(self) -> str:
        return _MIME_TYPES[self]


_MIME_TYPES = {
    AudioFormat.OGG_OPUS: "audio/ogg",
    AudioFormat.MP3: "audio/mpeg",
    AudioFormat.WAV: "audio/wav",
    AudioFormat.PCM_16K: PCM,
    AudioFormat.MULAW_8K: MULAW,
}


class AudioConverter(Protocol):
    async def convert(self, audio: Audio, target: AudioFormat) -> Audio:
        """``audio`` re-encoded as ``target`` (mono; resampled where the format fixes the
        rate). ``NotMedia`` for bytes that are not audio it can read;
        ``CapabilityNotConfigured`` when the encoder ``target`` needs is not installed."""
        ...
