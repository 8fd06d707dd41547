"""The ``AudioConverter`` on PyAV (FFmpeg's libraries, with libopus and LAME, bundled in
the ``av`` wheel of the optional ``audio`` extra), on a worker thread: decoding and encoding
are CPU-bound, except short WAV, raw PCM and μ-law turned into one another, a millisecond
of C done on the caller's thread (the voice channel's answers). Those need no FFmpeg
(``pcm.py``): without PyAV they still convert, and only a compressed container (MP3,
Ogg/Opus, M4A, FLAC) in or out answers ``CapabilityNotConfigured``."""

from __future__ import annotations

import asyncio
import io
import types
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, cast

from adapters.audio import pcm
from adapters.audio.pcm import Samples
from talia_core.shared.errors import CapabilityNotConfigured
from talia_core.shared.media import NotMedia
from talia_core.shared.speech import Audio, AudioFormat

if TYPE_CHECKING:
    from av.audio.stream import AudioStream
    from av.container import OutputContainer

EXTRA = "audio"
ENCODERS = {
    # WhatsApp plays voice notes as Ogg/Opus; 48 kHz is Opus's own rate, 24 kbit/s plenty
    # for a voice.
    AudioFormat.OGG_OPUS: ("ogg", "libopus", 48_000, 24_000),
    AudioFormat.MP3: ("mp3", "libmp3lame", 24_000, 48_000),
}
"""Container, encoder, sample rate and bit rate of each compressed target."""
INLINE = 512 * 1024
"""WAV, PCM or μ-law up to this size converted to one of them runs on the calling thread."""
MAX_SECONDS = 15 * 60
"""Longer audio is refused before it is decoded whole (a voice note is seconds long)."""


def imported_av() -> types.ModuleType:
    import av

    return av


class PyAVAudioConverter:
    def __init__(self, *, load: Callable[[], types.ModuleType] = imported_av) -> None:
        self._load = load

    async def convert(self, audio: Audio, target: AudioFormat) -> Audio:
        if target in pcm.PLAIN_TARGETS and pcm.is_plain(audio) and len(audio.content) <= INLINE:
            # A sentence of WAV to a phone line is a millisecond of C: a thread costs more.
            return self.convert_now(audio, target)
        return await asyncio.to_thread(self.convert_now, audio, target)

    def convert_now(self, audio: Audio, target: AudioFormat) -> Audio:
        """The conversion on the calling thread."""
        samples = self._samples(audio)
        if samples.seconds > MAX_SECONDS:
            raise NotMedia(f"the audio is over {MAX_SECONDS} seconds long")
        if target in pcm.PLAIN_TARGETS:
            return pcm.encoded(samples, target)
        return Audio(self._encoded(samples, target), target.mime_type)

    def _samples(self, audio: Audio) -> Samples:
        if not pcm.is_plain(audio):
            return self._decoded(audio.content)
        try:
            return pcm.decoded(audio)
        except pcm.BeyondTheStandardLibrary:
            return self._decoded(audio.content)

    def _av(self, what: str) -> types.ModuleType:
        try:
            return self._load()
        except ImportError as error:
            raise CapabilityNotConfigured(
                "audio conversion", f"{what} needs PyAV: pip install 'talia[{EXTRA}]' ({error})"
            ) from error

    def _decoded(self, content: bytes) -> Samples:
        av = self._av("reading compressed audio")
        rate = 0
        chunks: list[bytes] = []
        try:
            with av.open(io.BytesIO(content), mode="r") as container:
                if not container.streams.audio:
                    raise NotMedia("the file holds no audio")
                stream = container.streams.audio[0]
                if stream.codec_context is None:
                    raise NotMedia("the file's audio has no codec that can be read")
                rate = stream.codec_context.sample_rate or 0
                resampler = av.AudioResampler(format="s16", layout="mono", rate=rate)
                for frame in container.decode(stream):
                    chunks += (
                        bytes(out.planes[0])[: out.samples * 2] for out in resampler.resample(frame)
                    )
                    if sum(map(len, chunks)) > MAX_SECONDS * rate * 2:
                        raise NotMedia(f"the audio is over {MAX_SECONDS} seconds long")
                chunks += (
                    bytes(out.planes[0])[: out.samples * 2] for out in resampler.resample(None)
                )
        except av.FFmpegError as error:
            raise NotMedia(f"the file is not audio that can be read: {error}") from None
        if rate <= 0 or not chunks:
            raise NotMedia("the file holds no audio")
        return Samples(b"".join(chunks), rate)

    def _encoded(self, samples: Samples, target: AudioFormat) -> bytes:
        av = self._av(f"writing {target.value}")
        format_name, codec, rate, bit_rate = ENCODERS[target]
        buffer = io.BytesIO()
        container: OutputContainer
        with av.open(buffer, mode="w", format=format_name) as container:
            stream = cast("AudioStream", container.add_stream(codec, rate=rate, layout="mono"))
            stream.bit_rate = bit_rate
            context = stream.codec_context
            resampler = av.AudioResampler(
                format=context.format,
                layout="mono",
                rate=rate,
                frame_size=context.frame_size or None,
            )
            for frame in _frames(av, samples):
                for out in resampler.resample(frame):
                    container.mux(stream.encode(out))
            container.mux(stream.encode(None))
        return buffer.getvalue()


def _frames(av: types.ModuleType, samples: Samples, size: int = 4096) -> Iterator[object]:
    """``samples`` as PyAV frames, then ``None`` to flush the resampler."""
    step = size * pcm.WIDTH
    for start in range(0, len(samples.pcm), step):
        chunk = samples.pcm[start : start + step]
        frame = av.AudioFrame(format="s16", layout="mono", samples=len(chunk) // pcm.WIDTH)
        frame.planes[0].update(chunk)
        frame.sample_rate = samples.rate
        frame.pts = None
        yield frame
    yield None
