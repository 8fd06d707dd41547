"""Speech on OpenAI, through the SDK: transcriptions (``POST /v1/audio/transcriptions``,
multipart, ``response_format: json``, answered ``{"text": ...}``; a language hint is sent
as ``language``, and is the transcript's language) and speech (``POST /v1/audio/speech``,
answered the audio itself).

Speech is asked as WAV: lossless, so whatever the listener takes (Opus for a WhatsApp
voice note, μ-law for a phone line) is encoded once, by the audio converter. OpenAI's
voices speak the language of the text: ``language`` is not sent. A 400 that names the file
(``Invalid file format``, ``Audio file might be corrupted or unsupported``) is
``NotMedia``; other errors read as the language model's (``adapters.language.openai``).
"""

from __future__ import annotations

import openai
from openai import AsyncOpenAI, omit

from adapters.language import failures
from adapters.language.openai import SERVICE, failure_of
from adapters.perception.sound_files import as_file, audio_type
from talia_core.shared.errors import ExternalServiceUnavailable
from talia_core.shared.media import NotMedia
from talia_core.shared.speech import Audio, Transcript

DEFAULT_TRANSCRIPTION_MODEL = "gpt-4o-mini-transcribe"
DEFAULT_SPEECH_MODEL = "gpt-4o-mini-tts"
DEFAULT_VOICE = "coral"
_EXTENSIONS = {"audio/wav": "wav", "audio/mpeg": "mp3", "audio/ogg": "ogg", "audio/mp4": "m4a"}


class OpenAISpeechToText:
    """``sdk``: ``adapters.language.openai.sdk_client``'s, on the shared HTTP client."""

    def __init__(self, sdk: AsyncOpenAI, *, model: str = DEFAULT_TRANSCRIPTION_MODEL) -> None:
        self._openai = sdk
        self._model = model

    async def transcribe(self, audio: Audio, *, language: str | None = None) -> Transcript:
        content, file_type = as_file(audio)
        name = f"audio.{_EXTENSIONS[file_type]}"
        try:
            heard = await self._openai.audio.transcriptions.create(
                file=(name, content, file_type),
                model=self._model,
                language=language or omit,
                response_format="json",
            )
        except openai.APIStatusError as error:
            if error.status_code == 400 and _about_the_file(error):
                raise NotMedia(f"{SERVICE} could not read the file: {error.message}") from error
            raise failure_of(error) from error
        except openai.APIError as error:
            raise failure_of(error) from error
        return Transcript(heard.text.strip(), language)


class OpenAITextToSpeech:
    def __init__(
        self, sdk: AsyncOpenAI, *, model: str = DEFAULT_SPEECH_MODEL, voice: str = DEFAULT_VOICE
    ) -> None:
        self._openai = sdk
        self._model = model
        self._voice = voice

    async def synthesize(
        self, text: str, *, language: str | None = None, voice: str | None = None
    ) -> Audio:
        try:
            spoken = await self._openai.audio.speech.create(
                model=self._model, voice=voice or self._voice, input=text, response_format="wav"
            )
        except openai.APIError as error:
            raise failure_of(error) from error
        content = spoken.content
        mime_type = audio_type(content)
        if mime_type is None:
            raise ExternalServiceUnavailable(
                SERVICE, failures.shortened(f"an unreadable answer: {len(content)} bytes")
            )
        return Audio(content, mime_type)


def _about_the_file(error: openai.APIStatusError) -> bool:
    return error.param == "file" or any(
        word in error.message.lower() for word in ("file format", "corrupted", "audio file")
    )
