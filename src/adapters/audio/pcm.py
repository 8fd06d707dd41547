"""WAV, raw 16-bit PCM and G.711 μ-law with the standard library alone (``wave``,
``audioop``; ``audioop-lts`` on Python 3.13+), so a phone call and a speech recogniser get
their audio without FFmpeg installed. Everything here runs on mono 16-bit samples."""

from __future__ import annotations

import io
import warnings
import wave

import attrs

from talia_core.shared.media import NotMedia
from talia_core.shared.speech import MULAW, PCM, Audio, AudioFormat

with warnings.catch_warnings():
    # Deprecated on 3.11 and 3.12, gone from 3.13, where the audioop-lts package provides it.
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

WIDTH = 2
"""Bytes per sample: 16-bit."""
PLAIN_TARGETS = {
    AudioFormat.WAV: None,
    AudioFormat.PCM_16K: 16_000,
    AudioFormat.MULAW_8K: 8_000,
}
"""The targets written here, with the rate each fixes (``None``: the source's own)."""
STREAMED = 0x7FFF0000 // 2
"""A WAV written to a pipe (``espeak-ng --stdout``) cannot know its length and declares
about 2 GiB: its frames are what follows the header."""

MAX_RATE = 384_000
"""The highest sample rate audio is recorded at: a header that declares more is damaged."""


class BeyondTheStandardLibrary(NotMedia):
    """A WAV file in an encoding ``wave`` does not read (extensible, float, A-law): FFmpeg's."""


@attrs.frozen
class Samples:
    """Mono signed 16-bit little-endian samples at ``rate`` Hz."""

    pcm: bytes = attrs.field(repr=lambda c: f"<{len(c)} bytes>")
    rate: int

    @property
    def seconds(self) -> float:
        return len(self.pcm) / WIDTH / self.rate


def is_plain(audio: Audio) -> bool:
    """Raw PCM or μ-law, or a WAV file (by its magic bytes, whatever its MIME type says)."""
    return audio.mime_type in (PCM, MULAW) or (
        audio.content[:4] == b"RIFF" and audio.content[8:12] == b"WAVE"
    )


def decoded(audio: Audio) -> Samples:
    """The samples of raw PCM, μ-law or a PCM WAV file. ``NotMedia`` for anything else."""
    if audio.mime_type in (PCM, MULAW):
        if not audio.sample_rate or not 0 < audio.sample_rate <= MAX_RATE:
            raise NotMedia(f"raw {audio.mime_type} audio needs its sample rate")
        if audio.mime_type == MULAW:
            return Samples(mulaw_to_pcm(audio.content), audio.sample_rate)
        if len(audio.content) % WIDTH:
            raise NotMedia("raw 16-bit PCM has an odd number of bytes")
        return Samples(audio.content, audio.sample_rate)
    try:
        with wave.open(io.BytesIO(audio.content)) as read:
            channels, width, rate = read.getnchannels(), read.getsampwidth(), read.getframerate()
            declared = read.getnframes()
            frames = read.readframes(declared)
    except wave.Error as error:
        if str(error).startswith("unknown format"):
            raise BeyondTheStandardLibrary(f"a WAV file {error}") from None
        raise NotMedia(f"the WAV file cannot be read: {error}") from None
    except Exception:  # a damaged header fails in wave's many ways (EOF, chunk seeks, struct)
        raise NotMedia("the WAV file is damaged or cut short") from None
    if not 0 < rate <= MAX_RATE:
        raise NotMedia(f"the WAV file declares a sample rate of {rate} Hz")
    if len(frames) < declared * channels * width and declared < STREAMED:
        raise NotMedia("the WAV file is cut short")
    frames = frames[: len(frames) - len(frames) % (channels * width)]
    if width != WIDTH:
        frames = audioop.lin2lin(frames, width, WIDTH)
        if width == 1:  # 8-bit WAV is unsigned
            frames = audioop.bias(frames, WIDTH, -128 << 8)
    if channels == 2:
        frames = audioop.tomono(frames, WIDTH, 0.5, 0.5)
    elif channels != 1:
        raise NotMedia(f"a WAV file of {channels} channels is not taken")
    return Samples(frames, rate)


def encoded(samples: Samples, target: AudioFormat) -> Audio:
    """``samples`` as a WAV file, raw PCM at 16 kHz or μ-law at 8 kHz."""
    rate = PLAIN_TARGETS[target] or samples.rate
    pcm = resampled(samples, rate)
    if target is AudioFormat.MULAW_8K:
        return Audio(pcm_to_mulaw(pcm), target.mime_type, rate)
    if target is AudioFormat.PCM_16K:
        return Audio(pcm, target.mime_type, rate)
    return Audio(wav(pcm, rate), target.mime_type)


def resampled(samples: Samples, rate: int) -> bytes:
    if samples.rate == rate:
        return samples.pcm
    pcm, _ = audioop.ratecv(samples.pcm, WIDTH, 1, samples.rate, rate, None)
    return pcm


def wav(pcm: bytes, rate: int) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(WIDTH)
        out.setframerate(rate)
        out.writeframes(pcm)
    return buffer.getvalue()


def mulaw_to_pcm(mulaw: bytes) -> bytes:
    return audioop.ulaw2lin(mulaw, WIDTH)


def loudness(pcm: bytes) -> int:
    """The root mean square of 16-bit samples."""
    return int(audioop.rms(pcm, WIDTH))


def pcm_to_mulaw(pcm: bytes) -> bytes:
    return audioop.lin2ulaw(pcm, WIDTH)
