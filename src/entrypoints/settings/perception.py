"""The hearing and seeing engines (``TALIA_PERCEPTION__*``): a provider per capability and
its model; the credentials are the providers' own (``TALIA_OPENAI__*``,
``TALIA_HUGGINGFACE__TOKEN``)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field, model_validator


class RemoteEngine(StrEnum):
    NONE = "none"
    OPENAI = "openai"
    HUGGINGFACE = "huggingface"


class SpeechEngine(StrEnum):
    NONE = "none"
    OPENAI = "openai"
    HUGGINGFACE = "huggingface"
    ESPEAK = "espeak"


class SignEngine(StrEnum):
    NONE = "none"
    HUGGINGFACE = "huggingface"


ModelId = Annotated[str, Field(max_length=200, pattern=r"^[A-Za-z0-9._:/-]*$")]
"""A model's id (``owner/name`` on Hugging Face); empty: the provider's default."""


class PerceptionSettings(BaseModel):
    """A capability whose provider is ``none`` answers that it is not configured (501)."""

    speech_to_text: RemoteEngine = Field(
        RemoteEngine.NONE, description="Who transcribes voice: none, openai or huggingface."
    )
    speech_to_text_model: ModelId = Field(
        "",
        description="Empty: gpt-4o-mini-transcribe (openai), openai/whisper-large-v3-turbo "
        "(huggingface).",
    )
    text_to_speech: SpeechEngine = Field(
        SpeechEngine.ESPEAK,
        description="Who speaks: none, openai, huggingface, or espeak (espeak-ng run here, "
        "when installed).",
    )
    text_to_speech_model: ModelId = Field(
        "",
        description="Empty: gpt-4o-mini-tts (openai), facebook/mms-tts-spa (huggingface).",
    )
    voice: str = Field(
        "",
        max_length=40,
        pattern=r"^[A-Za-z0-9_+-]*$",
        description="The voice spoken in; empty: coral (openai), es-419 (espeak); "
        "huggingface speaks in its model's one voice.",
    )
    images: RemoteEngine = Field(
        RemoteEngine.NONE,
        description="Who describes images and finds objects in them: none, openai (a vision "
        "model in the Responses API; its boxes are approximate) or huggingface.",
    )
    caption_model: ModelId = Field(
        "",
        description="Empty: gpt-4.1-mini (openai, for objects too), "
        "Salesforce/blip-image-captioning-large (huggingface).",
    )
    detection_model: ModelId = Field(
        "",
        description="huggingface only: an object-detection model; empty: facebook/detr-resnet-50.",
    )
    signs: SignEngine = Field(
        SignEngine.NONE,
        description="Who reads sign language from an image: none or huggingface (an "
        "image-classification model whose labels are the signs or letters).",
    )
    sign_model: ModelId = Field(
        "",
        description="The image-classification model that reads signs; needed with "
        "TALIA_PERCEPTION__SIGNS=huggingface.",
    )
    huggingface_url: str = Field(
        "https://router.huggingface.co/hf-inference",
        pattern="^https?://",
        description="Where Hugging Face models are asked, as {url}/models/{model}: its "
        "router's own inference, or a server speaking the same.",
    )
    espeak_timeout_seconds: Annotated[float, Field(gt=0, le=120)] = Field(
        10.0, description="espeak-ng speaking longer than this is stopped (unavailable)."
    )

    @model_validator(mode="after")
    def _sign_model_named(self) -> PerceptionSettings:
        if self.signs is SignEngine.HUGGINGFACE and not self.sign_model:
            raise ValueError(
                "TALIA_PERCEPTION__SIGNS=huggingface needs TALIA_PERCEPTION__SIGN_MODEL"
            )
        return self
