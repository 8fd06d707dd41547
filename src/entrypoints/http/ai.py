"""The direct AI routes: transcribe, speak, look at an image, chat with an assistant.

Frontends call the hearing and seeing engines configured (``TALIA_PERCEPTION__*``)
and the assistants directly; nothing is stored. Every file's kind is read from its bytes
and held to ``TALIA_AI__*`` limits before an engine sees it; each signed-in user has
``TALIA_AI__REQUESTS_PER_MINUTE`` calls. A capability with no engine answers 501; an
engine that is down, 503 with ``Retry-After``. See ``docs/ai.md``.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Annotated, Literal

from litestar import Controller, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Body, JSONBody, SkipValidation
from litestar.response import Response
from pydantic import BaseModel, Field

from adapters.media.pillow import opened
from entrypoints.http.auth import signed_in
from entrypoints.http.errors import problems
from entrypoints.http.schemas import PRINTABLE, Schema
from entrypoints.settings.ai import MAX_UPLOAD_BYTES, AiSettings
from talia_core.assistants.definition import MAX_NAME_LENGTH
from talia_core.assistants.direct import DirectChat
from talia_core.assistants.language import Role as Speaking
from talia_core.assistants.language import Said
from talia_core.assistants.turn import ToolEvent, TurnResult
from talia_core.identity.model import Principal, Role
from talia_core.identity.ports import AttemptStore
from talia_core.shared.errors import RateLimited, RuleViolated
from talia_core.shared.media import MediaKind, MediaTooLarge, NotMedia, sniff
from talia_core.shared.speech import (
    Audio,
    AudioConverter,
    AudioFormat,
    SpeechToText,
    TextToSpeech,
)
from talia_core.shared.vision import Image, ImageUnderstanding, SignLanguageReader

ENGINES = (
    "speech_to_text",
    "text_to_speech",
    "audio_converter",
    "image_understanding",
    "sign_language_reader",
)
"""The gateways handlers take by name, resolved on each use (so a test's override holds)."""
LANGUAGE = r"^[a-z]{2}$"
AUDIO_KINDS = "MP3, M4A, Ogg or WAV"
IMAGE_KINDS = "JPEG, PNG, GIF or WebP"


class AiThrottle:
    """Calls counted per user in one-minute windows, in the store login throttling uses
    (in-process or Redis): the routes and the socket share each user's allowance."""

    WINDOW_SECONDS = 60

    def __init__(self, store: AttemptStore, per_minute: int) -> None:
        self._store = store
        self._per_minute = per_minute

    async def count(self, user_id: str) -> None:
        window = await self._store.hit(f"ai:user:{user_id}", window_seconds=self.WINDOW_SECONDS)
        if window.count > self._per_minute:
            raise RateLimited("too many AI calls; try again later", window.resets_in_seconds)


def admitted(content: bytes, kind: MediaKind, limit: int) -> str:
    """The MIME type of ``content``, refused unless it is media of ``kind`` within
    ``limit`` bytes."""
    found = sniff(content)
    if found is None or found.kind is not kind:
        kinds = AUDIO_KINDS if kind is MediaKind.AUDIO else IMAGE_KINDS
        raise NotMedia(f"the file is not {kind.value} ({kinds})")
    if len(content) > limit:
        raise MediaTooLarge(f"the {kind.value} is over its limit of {limit} bytes")
    return found.mime_type


def history(messages: list[tuple[str, str]], settings: AiSettings) -> tuple[Said, ...]:
    """``(role, text)`` pairs as the assistant reads them, held to the chat limits."""
    if len(messages) > settings.max_chat_messages:
        raise RuleViolated(
            f"at most {settings.max_chat_messages} messages",
            {"messages": "too many messages"},
        )
    for _, text in messages:
        if not text.strip():
            raise RuleViolated("a message has no text", {"text": "blank"})
        if len(text) > settings.max_message_characters:
            raise RuleViolated(
                f"a message is over {settings.max_message_characters} characters",
                {"text": "too long"},
            )
    return tuple(Said(Speaking(role), text) for role, text in messages)


def is_staff(principal: Principal) -> bool:
    return principal.role in (Role.ADMIN, Role.AGENT)


@dataclass
class AudioForm:
    file: UploadFile
    language: str | None = None


class ImageTask(enum.StrEnum):
    CAPTION = "caption"
    OBJECTS = "objects"
    SIGN = "sign"


@dataclass
class ImageForm:
    file: UploadFile
    task: ImageTask
    language: str | None = None


Form = Body(media_type=RequestEncodingType.MULTI_PART)


class TranscriptOut(BaseModel):
    text: str
    language: str | None = Field(description="What the engine heard (ISO 639-1), if it says.")
    duration_seconds: float | None


class SpeechIn(Schema):
    text: str = Field(
        description="What to say; blank or over TALIA_AI__MAX_SPEECH_CHARACTERS: 422."
    )
    voice: str | None = Field(None, max_length=100, pattern=PRINTABLE)
    language: str | None = Field(None, pattern=LANGUAGE, description="ISO 639-1.")
    format: Literal["mp3", "ogg_opus", "wav"] | None = Field(
        None, description="Absent: what the engine produces, as its Content-Type says."
    )


class CaptionOut(BaseModel):
    task: Literal["caption"] = "caption"
    caption: str


class BoxOut(BaseModel):
    x_min: int
    y_min: int
    x_max: int
    y_max: int


class ObjectOut(BaseModel):
    label: str
    score: float = Field(description="0 to 1.")
    box: BoxOut = Field(description="Pixels of the image as sent.")


class ObjectsOut(BaseModel):
    task: Literal["objects"] = "objects"
    objects: list[ObjectOut] = Field(description="The most confident first.")


class ReadingOut(BaseModel):
    label: str
    score: float


class SignOut(BaseModel):
    task: Literal["sign"] = "sign"
    sign: str
    score: float
    alternatives: list[ReadingOut] = Field(description="The runners-up.")


class ChatMessageIn(Schema):
    role: Literal["user", "assistant"]
    text: str


class ChatIn(Schema):
    assistant: str | None = Field(
        None,
        max_length=MAX_NAME_LENGTH,
        pattern=PRINTABLE,
        description="The assistant's name; absent: the web chat's entry assistant.",
    )
    messages: list[ChatMessageIn] = Field(
        min_length=1, description="The conversation so far, oldest first, ending with the user."
    )


class ToolCallOut(BaseModel):
    name: str
    arguments: str = Field(description="The JSON the model wrote.")
    output: str = Field(description="What the tool answered; a tool that acts is not performed.")


class ChatOut(BaseModel):
    messages: list[str]
    assistant: str = Field(description="The assistant that answered, after any transfer.")
    version: int
    hand_off: bool = Field(description="The assistant asks for a person to take over.")
    tool_calls: list[ToolCallOut]

    @classmethod
    def of(cls, result: TurnResult) -> ChatOut:
        speaker = result.speaker
        assert speaker is not None  # a direct chat names an assistant that answers
        return cls(
            messages=list(result.messages),
            assistant=speaker.name,
            version=speaker.version,
            hand_off=result.hand_off,
            tool_calls=[_tool_call(event) for event in result.events],
        )


def _tool_call(event: ToolEvent) -> ToolCallOut:
    return ToolCallOut(name=event.call.name, arguments=event.call.arguments, output=event.output)


def language_code(value: str | None) -> str | None:
    """An ISO 639-1 code, or None when none is given; ``RuleViolated`` for another text."""
    if value is None or value == "":
        return None
    if re.fullmatch(LANGUAGE, value) is None:
        raise RuleViolated("language must be an ISO 639-1 code, like es", {"language": "bad"})
    return value


async def _received(upload: UploadFile, kind: MediaKind, limit: int) -> tuple[bytes, str]:
    """The upload's bytes and MIME type, refused unless media of ``kind`` within ``limit``."""
    try:
        content = await upload.read()
    finally:
        await upload.close()
    return content, admitted(content, kind, limit)


AUDIO_RESPONSE = {
    200: ResponseSpec(
        data_container=bytes,
        media_type="audio/*",
        description="The audio: audio/mpeg, audio/ogg or audio/wav, as Content-Type says.",
    )
}


class AiController(Controller):
    path = "/api/ai"
    tags = ["ai"]
    guards = [signed_in]

    @post(
        "/transcribe",
        summary="Transcribe audio",
        status_code=200,
        request_max_body_size=MAX_UPLOAD_BYTES,
        responses=problems(400, 401, 413, 422, 429, 501, 502),
    )
    async def transcribe(
        self,
        data: Annotated[AudioForm, Form],
        principal: NamedDependency[Principal],
        ai_settings: NamedDependency[AiSettings],
        ai_throttle: NamedDependency[AiThrottle],
        speech_to_text: NamedDependency[SkipValidation[SpeechToText]],
    ) -> TranscriptOut:
        """The words spoken in ``file`` (MP3, M4A, Ogg or WAV, told by its bytes); ``language``
        (ISO 639-1) is a hint. 413 over ``TALIA_AI__MAX_AUDIO_BYTES``, 422 for what is not
        audio. Nothing is stored."""
        await ai_throttle.count(principal.user_id)
        language = language_code(data.language)
        content, mime_type = await _received(
            data.file, MediaKind.AUDIO, ai_settings.max_audio_bytes
        )
        heard = await speech_to_text.transcribe(Audio(content, mime_type), language=language)
        return TranscriptOut(
            text=heard.text, language=heard.language, duration_seconds=heard.duration_seconds
        )

    @post(
        "/speech",
        summary="Say a text",
        status_code=200,
        responses={**AUDIO_RESPONSE, **problems(400, 401, 422, 429, 501, 502)},
    )
    async def speech(
        self,
        data: JSONBody[SpeechIn],
        principal: NamedDependency[Principal],
        ai_settings: NamedDependency[AiSettings],
        ai_throttle: NamedDependency[AiThrottle],
        text_to_speech: NamedDependency[SkipValidation[TextToSpeech]],
        audio_converter: NamedDependency[SkipValidation[AudioConverter]],
    ) -> Response[bytes]:
        """``text`` spoken, as audio bytes with their Content-Type; ``format`` re-encodes it
        (501 when the encoder it needs is not installed)."""
        await ai_throttle.count(principal.user_id)
        if not data.text:
            raise RuleViolated("there is no text to say", {"text": "blank"})
        if len(data.text) > ai_settings.max_speech_characters:
            limit = ai_settings.max_speech_characters
            raise RuleViolated(f"the text is over {limit} characters", {"text": "too long"})
        audio = await text_to_speech.synthesize(data.text, language=data.language, voice=data.voice)
        if data.format is not None and AudioFormat(data.format).mime_type != audio.mime_type:
            audio = await audio_converter.convert(audio, AudioFormat(data.format))
        return Response(audio.content, media_type=audio.mime_type)

    @post(
        "/image",
        summary="Caption an image, find its objects or read a sign",
        status_code=200,
        request_max_body_size=MAX_UPLOAD_BYTES,
        responses=problems(400, 401, 413, 422, 429, 501, 502),
    )
    async def image(
        self,
        data: Annotated[ImageForm, Form],
        principal: NamedDependency[Principal],
        ai_settings: NamedDependency[AiSettings],
        ai_throttle: NamedDependency[AiThrottle],
        image_understanding: NamedDependency[SkipValidation[ImageUnderstanding]],
        sign_language_reader: NamedDependency[SkipValidation[SignLanguageReader]],
    ) -> CaptionOut | ObjectsOut | SignOut:
        """``task``: ``caption`` (what the image shows, in ``language`` when the engine can
        write it), ``objects`` (each with its box) or ``sign`` (a sign or fingerspelled
        letter, with the runners-up). The image (JPEG, PNG, GIF or WebP, told by its bytes)
        is refused over ``TALIA_AI__MAX_IMAGE_BYTES`` or ``TALIA_AI__MAX_IMAGE_PIXELS``
        (413) before an engine sees it."""
        await ai_throttle.count(principal.user_id)
        language = language_code(data.language)
        content, mime_type = await _received(
            data.file, MediaKind.IMAGE, ai_settings.max_image_bytes
        )
        opened(content, ai_settings.max_image_pixels)  # the header's size, nothing decoded
        image = Image(content, mime_type)
        if data.task is ImageTask.CAPTION:
            return CaptionOut(caption=await image_understanding.caption(image, language=language))
        if data.task is ImageTask.OBJECTS:
            found = await image_understanding.detect(image)
            return ObjectsOut(
                objects=[
                    ObjectOut(
                        label=o.label,
                        score=o.score,
                        box=BoxOut(
                            x_min=o.box.x_min,
                            y_min=o.box.y_min,
                            x_max=o.box.x_max,
                            y_max=o.box.y_max,
                        ),
                    )
                    for o in found
                ]
            )
        reading = await sign_language_reader.read(image)
        return SignOut(
            sign=reading.label,
            score=reading.score,
            alternatives=[
                ReadingOut(label=label, score=score) for label, score in reading.alternatives
            ],
        )

    @post(
        "/chat",
        summary="A turn of an assistant on the history sent",
        status_code=200,
        responses=problems(400, 401, 404, 422, 429, 502),
    )
    async def chat(
        self,
        data: JSONBody[ChatIn],
        principal: NamedDependency[Principal],
        ai_settings: NamedDependency[AiSettings],
        ai_throttle: NamedDependency[AiThrottle],
        direct_chat: NamedDependency[DirectChat],
    ) -> ChatOut:
        """A turn of ``assistant`` (the web chat's entry one when absent) on the history
        sent, which the frontend keeps: nothing is stored, and tools that act (bookings,
        a lead's facts) are not performed. Customers talk to an assistant that answers the
        web chat (404 for another); admins and agents to any enabled one."""
        await ai_throttle.count(principal.user_id)
        said = history([(m.role, m.text) for m in data.messages], ai_settings)
        result = await direct_chat.answer(
            said, assistant=data.assistant, staff=is_staff(principal), name=principal.name
        )
        return ChatOut.of(result)


CONTROLLERS = [AiController]
