"""An ``AudioConverter`` for tests, passing the port's contract
(``tests/contracts/speech/audio_converter.py``):

    converter = FakeAudioConverter()
    voice_note = await converter.convert(wav, AudioFormat.OGG_OPUS)
    converter.converted                    # the targets it was asked for, in order
    converter.fail_with(CapabilityNotConfigured("audio conversion", "no encoder"))

WAV, raw PCM and μ-law convert for real (the standard library's codecs, as the real
converter does). Ogg/Opus and MP3 come out as the container's magic bytes around the raw
samples, which the fake reads back; any other compressed audio reads as silence as long as
its size at 32 kbit/s, since the fake decodes no codec.
"""

from __future__ import annotations

from adapters.audio import pcm
from adapters.audio.pcm import Samples
from talia_core.shared.errors import TaliaError
from talia_core.shared.media import MediaKind, NotMedia, sniff
from talia_core.shared.speech import Audio, AudioFormat

_MAGIC = {AudioFormat.OGG_OPUS: b"OggS\x00fake-opus", AudioFormat.MP3: b"ID3\x04fake-mp3"}
_BYTES_PER_SECOND = 4_000
_RATE = 16_000


class FakeAudioConverter:
    def __init__(self) -> None:
        self._failure: TaliaError | None = None
        self.converted: list[AudioFormat] = []

    def fail_with(self, error: TaliaError | None) -> None:
        """Every call raises ``error`` until it is set back to ``None``."""
        self._failure = error

    async def convert(self, audio: Audio, target: AudioFormat) -> Audio:
        if self._failure is not None:
            raise self._failure
        samples = pcm.decoded(audio) if pcm.is_plain(audio) else _decoded(audio.content)
        self.converted.append(target)
        if target in pcm.PLAIN_TARGETS:
            return pcm.encoded(samples, target)
        body = pcm.resampled(samples, _RATE)
        return Audio(_MAGIC[target] + body, target.mime_type)


def _decoded(content: bytes) -> Samples:
    for magic in _MAGIC.values():
        if content.startswith(magic):
            body = content[len(magic) :]
            return Samples(body[: len(body) - len(body) % pcm.WIDTH], _RATE)
    found = sniff(content)
    if found is None or found.kind is not MediaKind.AUDIO:
        raise NotMedia("the file is not audio")
    seconds = len(content) / _BYTES_PER_SECOND
    return Samples(bytes(int(seconds * _RATE) * pcm.WIDTH), _RATE)
