"""Speech on Hugging Face's inference (``huggingface_inference``): automatic speech
recognition (``POST /models/{model}`` with the audio file as the body, answered
``{"text": ...}``) and text to speech (``{"inputs": text, "parameters": {}}``, answered
the audio itself).

The recogniser is sent no language: the hint would turn the raw body into base64 JSON with
model-specific parameters, and Whisper hears the language by itself. The audio a speech
model answers says its type by its bytes (FLAC, WAV...); the voice is the model's own.
"""

from __future__ import annotations

from adapters.perception.huggingface_inference import InferenceModel, ask, unreadable
from adapters.perception.sound_files import as_file, audio_type
from talia_core.shared.speech import Audio, Transcript

DEFAULT_RECOGNITION_MODEL = "openai/whisper-large-v3-turbo"
DEFAULT_SPEECH_MODEL = "facebook/mms-tts-spa"


class HuggingFaceSpeechToText:
    def __init__(self, model: InferenceModel) -> None:
        self._model = model

    async def transcribe(self, audio: Audio, *, language: str | None = None) -> Transcript:
        content, file_type = as_file(audio)
        output = await ask(
            self._model,
            lambda client: client.automatic_speech_recognition(content, model=self._model.url),
            file_type=file_type,
        )
        if not isinstance(output.text, str):
            raise unreadable("an answer without its text")
        return Transcript(output.text.strip())


class HuggingFaceTextToSpeech:
    def __init__(self, model: InferenceModel) -> None:
        self._model = model

    async def synthesize(
        self, text: str, *, language: str | None = None, voice: str | None = None
    ) -> Audio:
        content = await ask(
            self._model, lambda client: client.text_to_speech(text, model=self._model.url)
        )
        mime_type = audio_type(content)
        if mime_type is None:
            raise unreadable(f"{len(content)} bytes that are not audio")
        return Audio(content, mime_type)
