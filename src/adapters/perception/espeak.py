"""Text to speech offline: Debian's ``espeak-ng`` (``apt-get install espeak-ng``), run as a
subprocess, never through a shell: the text goes in on stdin, so nothing in it is read as
an option, and it is spoken as plain text (no SSML). It answers a 16-bit mono WAV at 22 050
Hz on stdout, whose header, written before the length was known, is given the real sizes
here.

The voice is an espeak-ng voice name (``es-419``: Latin American Spanish; ``espeak-ng
--voices`` lists them); a call's ``voice`` is spoken, else the configured voice when it
speaks the call's ``language``, else that language's voice. Without the binary every call
is ``CapabilityNotConfigured``.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import struct

from talia_core.shared.errors import (
    CapabilityNotConfigured,
    ExternalServiceUnavailable,
    RuleViolated,
)
from talia_core.shared.speech import Audio

SERVICE = "espeak-ng"
DEFAULT_VOICE = "es-419"
WORDS_PER_MINUTE = 160
_VOICE = re.compile(r"^[A-Za-z0-9_+-]{1,40}$")


class EspeakTextToSpeech:
    def __init__(
        self,
        *,
        voice: str = DEFAULT_VOICE,
        timeout_seconds: float = 10.0,
        binary: str = "espeak-ng",
    ) -> None:
        self._voice = voice
        self._timeout = timeout_seconds
        self._binary = binary

    async def synthesize(
        self, text: str, *, language: str | None = None, voice: str | None = None
    ) -> Audio:
        chosen = voice or self._voice_for(language)
        if not _VOICE.match(chosen):
            raise RuleViolated(f"{chosen!r} is not an espeak-ng voice name", {"voice": chosen})
        found = shutil.which(self._binary)
        if found is None:
            raise CapabilityNotConfigured(
                "text to speech", f"{self._binary} is not installed (apt-get install espeak-ng)"
            )
        command = (found, "-v", chosen, "-s", str(WORDS_PER_MINUTE), "--stdout", "--stdin")
        process = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            async with asyncio.timeout(self._timeout):
                out, err = await process.communicate(text.encode())
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
            raise ExternalServiceUnavailable(SERVICE, "took too long to speak") from None
        if process.returncode != 0 or not out.startswith(b"RIFF"):
            said = err.decode(errors="replace").strip()[:200] or f"exit {process.returncode}"
            if "voice" in said.lower():
                raise RuleViolated(
                    f"{chosen!r} is not an espeak-ng voice: {said}", {"voice": chosen}
                )
            raise ExternalServiceUnavailable(SERVICE, said)
        return Audio(sized(out), "audio/wav")

    def _voice_for(self, language: str | None) -> str:
        """The configured voice when it speaks ``language`` (``es-419`` for ``es``), else
        the language's own voice."""
        if language is None or _speaks(self._voice, language):
            return self._voice
        return language


def _speaks(voice: str, language: str) -> bool:
    return voice.lower().split("-")[0] == language.lower().split("-")[0]


def sized(wav: bytes) -> bytes:
    """A WAV streamed with placeholder sizes, given its real RIFF and ``data`` sizes."""
    at = wav.find(b"data", 12)
    if at < 0:
        return wav
    return (
        wav[:4]
        + struct.pack("<I", len(wav) - 8)
        + wav[8 : at + 4]
        + struct.pack("<I", len(wav) - at - 8)
        + wav[at + 8 :]
    )
