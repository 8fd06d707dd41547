"""Audio as the engines take and give it: a file in a container they can decode, and the
MIME type of what they answer told from its bytes.

Raw PCM and μ-law carry no header; engines read files, so they go out wrapped in a WAV
header (μ-law as WAVE_FORMAT_MULAW, which every decoder built on ffmpeg or libsndfile
reads). Anything else must sniff as audio (``talia_core.shared.media.sniff``) before an
engine is asked: bytes that are not audio are ``NotMedia`` without a call.
"""

from __future__ import annotations

import struct

from talia_core.shared.media import MediaKind, NotMedia, sniff
from talia_core.shared.speech import MULAW, PCM, Audio

FLAC = "audio/flac"
_PCM_FORMAT = 1
_MULAW_FORMAT = 7
_NOT_AUDIO = "the file is not audio (MP3, M4A, Ogg, WAV, or raw PCM or μ-law with its rate)"


def as_file(audio: Audio) -> tuple[bytes, str]:
    """The bytes of a file an engine decodes and their MIME type; ``NotMedia`` for bytes
    that are not audio."""
    if audio.mime_type in (PCM, MULAW):
        if not audio.sample_rate or not audio.content:
            raise NotMedia(f"raw {audio.mime_type} needs its sample rate and some samples")
        if audio.mime_type == PCM:
            return wav_header(len(audio.content), audio.sample_rate) + audio.content, "audio/wav"
        header = wav_header(len(audio.content), audio.sample_rate, mulaw=True)
        return header + audio.content, "audio/wav"
    found = sniff(audio.content)
    if found is None or found.kind is not MediaKind.AUDIO:
        raise NotMedia(_NOT_AUDIO)
    return audio.content, found.mime_type


def wav_header(data_bytes: int, rate: int, *, mulaw: bool = False) -> bytes:
    """The 44-byte header of a mono WAV of 16-bit PCM (or 8-bit μ-law) samples."""
    width = 1 if mulaw else 2
    fmt = struct.pack(
        "<HHIIHH", _MULAW_FORMAT if mulaw else _PCM_FORMAT, 1, rate, rate * width, width, width * 8
    )
    return (
        b"RIFF"
        + struct.pack("<I", 36 + data_bytes)
        + b"WAVEfmt "
        + struct.pack("<I", len(fmt))
        + fmt
        + b"data"
        + struct.pack("<I", data_bytes)
    )


def audio_type(content: bytes) -> str | None:
    """The MIME type of audio an engine answered: the sniffed containers, and FLAC (what
    Hugging Face's speech models answer most)."""
    if content.startswith(b"fLaC"):
        return FLAC
    found = sniff(content)
    return found.mime_type if found is not None and found.kind is MediaKind.AUDIO else None
