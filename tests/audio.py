"""Real speech for the voice tests: Spanish said by Debian's espeak-ng, as a phone line
carries it (8 kHz μ-law, 20 ms frames)."""

from __future__ import annotations

import asyncio
import subprocess

from adapters.audio.pyav import PyAVAudioConverter
from talia_core.conversations.call_ports import FRAME_MS, LINE_RATE
from talia_core.shared.speech import Audio, AudioFormat
from tests.prerequisites import espeak

FRAME_BYTES = LINE_RATE * FRAME_MS // 1000
SILENCE = b"\xff" * FRAME_BYTES
"""A μ-law frame of silence."""


async def spoken_on_the_line(text: str) -> bytes:
    """``text`` said in Spanish, as 8 kHz μ-law."""
    said = await asyncio.to_thread(
        subprocess.run, [espeak(), "-v", "es", "--stdout", text], capture_output=True, check=True
    )
    line = await PyAVAudioConverter().convert(Audio(said.stdout, "audio/wav"), AudioFormat.MULAW_8K)
    return line.content


def frames(audio: bytes) -> list[bytes]:
    """``audio`` in whole 20 ms frames, the last one padded with silence."""
    padded = audio + SILENCE[: -len(audio) % FRAME_BYTES]
    return [padded[at : at + FRAME_BYTES] for at in range(0, len(padded), FRAME_BYTES)]
