"""The limits of the direct AI routes and their socket (``TALIA_AI__*``)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from talia_core.shared.media import MAX_PIXELS

MIB = 1024 * 1024
MAX_UPLOAD_BYTES = 64 * MIB
"""The most a route's body may carry; the byte limits below are at most this."""


class AiSettings(BaseModel):
    """``/api/ai/*`` and ``WS /api/ai/ws``: what one call may carry and how often."""

    max_audio_bytes: Annotated[int, Field(ge=1024, le=MAX_UPLOAD_BYTES)] = Field(
        10 * MIB,
        description="The largest audio a transcription takes, and an utterance on the "
        "socket; larger is refused (413) before any engine hears it.",
    )
    max_image_bytes: Annotated[int, Field(ge=1024, le=MAX_UPLOAD_BYTES)] = Field(
        10 * MIB, description="The largest image the image route takes (413)."
    )
    max_image_pixels: Annotated[int, Field(ge=1, le=MAX_PIXELS)] = Field(
        MAX_PIXELS,
        description="The most pixels an image may declare, read from its header before "
        "any is decoded (413).",
    )
    max_speech_characters: Annotated[int, Field(ge=1, le=100_000)] = Field(
        2000, description="The longest text the speech route says (422)."
    )
    max_chat_messages: Annotated[int, Field(ge=1, le=500)] = Field(
        50,
        description="The most messages of history a chat call carries (422); the socket "
        "keeps this many, dropping the oldest.",
    )
    max_message_characters: Annotated[int, Field(ge=1, le=100_000)] = Field(
        4000, description="The longest message of a chat (422)."
    )
    requests_per_minute: Annotated[int, Field(ge=1, le=100_000)] = Field(
        30,
        description="Calls of the AI routes, and messages and utterances on the socket, "
        "each user may make in a minute (429, or an error event on the socket).",
    )
    max_frame_bytes: Annotated[int, Field(ge=1024, le=16 * MIB)] = Field(
        MIB,
        description="The largest frame a socket client may send; larger closes the socket "
        "with 1009.",
    )
    auth_seconds: Annotated[float, Field(gt=0, le=120)] = Field(
        10.0,
        description="How long a socket opened without a token has to send its "
        "'auth' message before it is closed with 4401.",
    )
