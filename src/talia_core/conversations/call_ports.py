"""What a phone call needs from the world: hearing speech on the line, the line itself,
the call's transfer to a person, and the greeting it opens with."""

from __future__ import annotations

from typing import Protocol

FRAME_MS = 20
LINE_RATE = 8_000
"""A phone line carries G.711 μ-law at 8 kHz: a byte a sample, 160 bytes a 20 ms frame."""


class SpeechDetector(Protocol):
    def is_speech(self, frame: bytes) -> bool:
        """Whether the caller speaks in ``frame``: 20 ms of 8 kHz μ-law."""
        ...


class VoiceActivity(Protocol):
    def detector(self) -> SpeechDetector:
        """A detector for one call (it follows the line's noise as the call goes on)."""
        ...


class CallLine(Protocol):
    """The way back to the caller; the line plays what it is sent in order, at its pace."""

    async def play(self, audio: bytes) -> None:
        """Queue 8 kHz μ-law audio."""
        ...

    async def mark(self, name: str) -> None:
        """Ask to be told ``name`` once everything queued before it has played."""
        ...

    async def clear(self) -> None:
        """Drop what is queued and not played yet (the caller barged in)."""
        ...


class CallTransfers(Protocol):
    async def transfer(self, call_id: str) -> None:
        """Put the call through to a person; ``ExternalServiceUnavailable`` when the
        provider cannot, ``CapabilityNotConfigured`` with no number to put it through to."""
        ...


class CallGreetings(Protocol):
    async def greeting(self) -> str:
        """What the assistant answering calls says first."""
        ...
