"""The contract every ``AudioConverter`` passes: PyAV's, and the fake that decodes no codec.

Subclass ``AudioConverterContract`` (what the uses of the port rely on: each target's
format and rate, durations kept, mono, refusals) and provide the fixture ``converter``; a
converter that runs the codecs themselves subclasses ``CodecContract``, which also reads
files other encoders wrote and checks that what it writes is really Opus or MP3.
"""

from __future__ import annotations

import io
import math
import struct
import wave

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.memory.speech import tone
from talia_core.shared.media import MP3, OGG, WAV, NotMedia, sniff
from talia_core.shared.speech import MULAW, PCM, Audio, AudioConverter, AudioFormat

CONTAINERS = {AudioFormat.OGG_OPUS: OGG, AudioFormat.MP3: MP3, AudioFormat.WAV: WAV}
RAW_RATES = {AudioFormat.PCM_16K: 16_000, AudioFormat.MULAW_8K: 8_000}
EACH_CONVERTER = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.differing_executors],
)
"""Each subclass runs the property tests on its own converter: a different executor."""
TOLERANCE = 0.08
"""Seconds a lossy codec may add or drop at the ends (Opus pre-skip, MP3 padding)."""


def wav(seconds: float, *, rate: int = 16_000, channels: int = 1, hertz: float = 440.0) -> bytes:
    """A sine tone, the same in every channel."""
    frames = bytearray()
    for n in range(int(seconds * rate)):
        sample = struct.pack("<h", int(9000 * math.sin(2 * math.pi * hertz * n / rate)))
        frames += sample * channels
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(channels)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(bytes(frames))
    return out.getvalue()


def streamed(content: bytes) -> bytes:
    """A WAV as a program writing to a pipe makes it: its sizes say about 2 GiB."""
    return content[:4] + b"\x24\xf0\xff\x7f" + content[8:40] + b"\x00\xf0\xff\x7f" + content[44:]


def seconds_of(audio: Audio) -> float:
    """How long raw PCM or μ-law lasts."""
    assert audio.sample_rate
    width = 2 if audio.mime_type == PCM else 1
    return len(audio.content) / width / audio.sample_rate


class AudioConverterContract:
    @pytest.mark.parametrize("target", list(AudioFormat))
    async def test_each_target_comes_out_in_its_own_format(
        self, converter: AudioConverter, target: AudioFormat
    ) -> None:
        audio = await converter.convert(Audio(tone(1.0), "audio/wav"), target)

        assert audio.mime_type == target.mime_type
        if target in RAW_RATES:
            assert audio.sample_rate == RAW_RATES[target]
            assert seconds_of(audio) == pytest.approx(1.0, abs=0.01)
        else:
            assert sniff(audio.content) == CONTAINERS[target]

    @pytest.mark.parametrize("target", list(AudioFormat))
    async def test_what_it_writes_it_reads_back_as_long_as_it_was(
        self, converter: AudioConverter, target: AudioFormat
    ) -> None:
        written = await converter.convert(Audio(wav(1.5, rate=22_050), "audio/wav"), target)

        back = await converter.convert(written, AudioFormat.PCM_16K)

        assert seconds_of(back) == pytest.approx(1.5, abs=TOLERANCE)

    async def test_stereo_comes_out_mono(self, converter: AudioConverter) -> None:
        audio = Audio(wav(0.5, rate=44_100, channels=2), "audio/wav")

        pcm = await converter.convert(audio, AudioFormat.PCM_16K)
        again = await converter.convert(audio, AudioFormat.WAV)

        assert seconds_of(pcm) == pytest.approx(0.5, abs=0.01)
        with wave.open(io.BytesIO(again.content)) as read:
            assert (read.getnchannels(), read.getframerate()) == (1, 44_100)

    async def test_a_phone_line_s_mulaw_becomes_pcm_for_a_recogniser(
        self, converter: AudioConverter
    ) -> None:
        line = await converter.convert(Audio(tone(0.6), "audio/wav"), AudioFormat.MULAW_8K)

        pcm = await converter.convert(line, AudioFormat.PCM_16K)

        assert (pcm.mime_type, pcm.sample_rate) == (PCM, 16_000)
        assert seconds_of(pcm) == pytest.approx(0.6, abs=0.01)
        assert max(abs(v) for (v,) in struct.iter_unpack("<h", pcm.content)) > 4000

    async def test_a_wav_written_to_a_pipe_is_read_to_its_end(
        self, converter: AudioConverter
    ) -> None:
        audio = Audio(streamed(wav(0.8, rate=22_050)), "audio/wav")

        pcm = await converter.convert(audio, AudioFormat.PCM_16K)

        assert seconds_of(pcm) == pytest.approx(0.8, abs=0.01)

    @pytest.mark.parametrize(
        "content",
        [b"", b"hola, esto es texto\n", b"%PDF-1.7\n1 0 obj\n", b"\xff\xd8\xff\xe0" + bytes(64)],
        ids=["empty", "text", "pdf", "jpeg"],
    )
    async def test_bytes_that_are_not_audio_are_refused(
        self, converter: AudioConverter, content: bytes
    ) -> None:
        with pytest.raises(NotMedia):
            await converter.convert(Audio(content, "audio/ogg"), AudioFormat.WAV)

    async def test_a_wav_cut_short_is_refused(self, converter: AudioConverter) -> None:
        content = wav(1.0)

        with pytest.raises(NotMedia):
            await converter.convert(Audio(content[:30], "audio/wav"), AudioFormat.PCM_16K)

    @pytest.mark.parametrize("target", list(AudioFormat))
    async def test_a_wav_declaring_a_sample_rate_no_audio_has_is_refused(
        self, converter: AudioConverter, target: AudioFormat
    ) -> None:
        content = bytearray(wav(0.2))
        content[24:28] = struct.pack("<I", 0x7FFF_F000)  # the header's sample rate

        with pytest.raises(NotMedia):
            await converter.convert(Audio(bytes(content), "audio/wav"), target)

    @pytest.mark.parametrize("mime_type", [PCM, MULAW])
    async def test_raw_audio_at_a_rate_no_audio_has_is_refused(
        self, converter: AudioConverter, mime_type: str
    ) -> None:
        with pytest.raises(NotMedia, match="sample rate"):
            await converter.convert(Audio(bytes(320), mime_type, 2**40), AudioFormat.WAV)

    @pytest.mark.parametrize("mime_type", [PCM, MULAW])
    async def test_raw_audio_without_its_rate_is_refused(
        self, converter: AudioConverter, mime_type: str
    ) -> None:
        with pytest.raises(NotMedia, match="sample rate"):
            await converter.convert(Audio(bytes(320), mime_type), AudioFormat.WAV)

    @EACH_CONVERTER
    @given(
        samples=st.integers(min_value=1, max_value=24_000),
        rate=st.sampled_from([8_000, 16_000, 22_050, 24_000, 44_100, 48_000]),
        target=st.sampled_from(sorted(RAW_RATES)),
    )
    async def test_raw_targets_keep_the_length_at_their_own_rate(
        self, converter: AudioConverter, samples: int, rate: int, target: AudioFormat
    ) -> None:
        audio = Audio(bytes(samples * 2), PCM, rate)

        out = await converter.convert(audio, target)

        assert abs(seconds_of(out) - samples / rate) <= 2 / RAW_RATES[target]

    @EACH_CONVERTER
    @given(data=st.data())
    async def test_damaged_audio_is_converted_or_refused_never_failing_otherwise(
        self, converter: AudioConverter, data: st.DataObject
    ) -> None:
        content = bytearray(data.draw(st.sampled_from([wav(0.2), streamed(wav(0.2, rate=8_000))])))
        for _ in range(data.draw(st.integers(1, 8))):
            content[data.draw(st.integers(0, 60))] = data.draw(st.integers(0, 255))
        cut = data.draw(st.integers(1, len(content)))
        target = data.draw(st.sampled_from(list(AudioFormat)))

        try:
            audio = await converter.convert(Audio(bytes(content[:cut]), "audio/wav"), target)
        except NotMedia:
            return
        assert audio.mime_type == target.mime_type


class CodecContract(AudioConverterContract):
    """For converters that run real codecs: files written by FFmpeg's own encoders."""

    @pytest.mark.parametrize(
        ("container", "codec"),
        [
            ("mp3", "libmp3lame"),
            ("ogg", "libopus"),
            ("wav", "pcm_s24le"),
            ("flac", "flac"),
            ("ipod", "aac"),
        ],
        ids=["mp3", "ogg-opus", "wav-24-bit", "flac", "m4a"],
    )
    async def test_compressed_audio_of_every_kind_is_read(
        self, converter: AudioConverter, container: str, codec: str
    ) -> None:
        content = encoded_by_ffmpeg(wav(1.2, rate=48_000), container, codec)

        pcm = await converter.convert(Audio(content, "audio/ogg"), AudioFormat.PCM_16K)

        assert seconds_of(pcm) == pytest.approx(1.2, abs=TOLERANCE)
        assert max(abs(v) for (v,) in struct.iter_unpack("<h", pcm.content)) > 4000

    @pytest.mark.parametrize(
        ("target", "codec"), [(AudioFormat.OGG_OPUS, "opus"), (AudioFormat.MP3, "mp3float")]
    )
    async def test_voice_notes_are_really_opus_or_mp3_in_mono(
        self, converter: AudioConverter, target: AudioFormat, codec: str
    ) -> None:
        import av

        audio = await converter.convert(Audio(tone(1.0), "audio/wav"), target)

        with av.open(io.BytesIO(audio.content)) as container:
            stream = container.streams.audio[0]
            assert stream.codec_context.codec.id == av.Codec(codec, "r").id
            assert stream.codec_context.layout.nb_channels == 1

    async def test_a_compressed_file_cut_short_is_refused(self, converter: AudioConverter) -> None:
        content = encoded_by_ffmpeg(wav(1.0, rate=48_000), "ogg", "libopus")

        with pytest.raises(NotMedia):
            await converter.convert(Audio(content[:50], "audio/ogg"), AudioFormat.WAV)


def encoded_by_ffmpeg(content: bytes, container: str, codec: str) -> bytes:
    """``content`` (a WAV) encoded by FFmpeg's ``codec`` in ``container``, through PyAV."""
    import av

    out = io.BytesIO()
    with av.open(io.BytesIO(content)) as source, av.open(out, "w", format=container) as sink:
        stream = sink.add_stream(codec, rate=48_000 if codec != "libmp3lame" else 44_100)
        context = stream.codec_context
        resampler = av.AudioResampler(
            format=context.format,
            layout=context.layout,
            rate=context.sample_rate,
            frame_size=context.frame_size or None,
        )
        for frame in source.decode(audio=0):
            for piece in resampler.resample(frame):
                sink.mux(stream.encode(piece))
        for piece in resampler.resample(None):
            sink.mux(stream.encode(piece))
        sink.mux(stream.encode(None))
    return out.getvalue()
