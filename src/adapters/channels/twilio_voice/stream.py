"""Media Streams' WebSocket messages: what Twilio sends, read strictly, and the line back.

A frame that is not JSON, names no known ``event`` or lacks what its event needs is
``Malformed``; the socket then closes with a policy violation.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import attrs

from talia_core.conversations.call_ports import FRAME_MS, LINE_RATE
from talia_core.shared.errors import Malformed

FRAME_BYTES = LINE_RATE * FRAME_MS // 1000
MAX_MESSAGE_CHARS = 16_384
"""A media message is about 300 characters; ``start`` with its parameters a few hundred."""
MAX_MEDIA_BYTES = 8 * FRAME_BYTES
MAX_MARK_NAME = 100


@attrs.frozen
class Started:
    stream_id: str
    call_id: str
    parameters: Mapping[str, str]


@attrs.frozen
class Media:
    audio: bytes = attrs.field(repr=lambda a: f"<{len(a)} bytes>")


@attrs.frozen
class Marked:
    name: str


@attrs.frozen
class Stopped:
    pass


@attrs.frozen
class Ignored:
    """``connected``, ``dtmf``: nothing to do."""

    event: str


StreamEvent = Started | Media | Marked | Stopped | Ignored


def parse(text: str | bytes) -> StreamEvent:
    if len(text) > MAX_MESSAGE_CHARS:
        raise Malformed("a stream message is too long")
    try:
        message = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        raise Malformed("a stream message is not JSON") from None
    if not isinstance(message, dict):
        raise Malformed("a stream message is a JSON object")
    event = message.get("event")
    if event == "media":
        return Media(_audio(_part(message, "media").get("payload")))
    if event == "mark":
        return Marked(_text(_part(message, "mark").get("name"), "mark.name", MAX_MARK_NAME))
    if event == "start":
        return _started(message)
    if event == "stop":
        return Stopped()
    if event in ("connected", "dtmf"):
        return Ignored(event)
    raise Malformed(f"unknown stream event {str(event)[:40]!r}")


def _started(message: dict[str, Any]) -> Started:
    start = _part(message, "start")
    media_format = start.get("mediaFormat")
    if isinstance(media_format, dict) and (
        media_format.get("encoding") != "audio/x-mulaw"
        or media_format.get("sampleRate") != LINE_RATE
    ):
        raise Malformed("the stream is not 8 kHz μ-law")
    parameters = start.get("customParameters") or {}
    if not isinstance(parameters, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in parameters.items()
    ):
        raise Malformed("start.customParameters is an object of strings")
    return Started(
        stream_id=_text(start.get("streamSid") or message.get("streamSid"), "streamSid", 64),
        call_id=_text(start.get("callSid"), "start.callSid", 64),
        parameters=parameters,
    )


def _part(message: dict[str, Any], name: str) -> dict[str, Any]:
    part = message.get(name)
    if not isinstance(part, dict):
        raise Malformed(f"a {name} message needs its {name} object")
    return part


def _text(value: object, what: str, limit: int) -> str:
    if not isinstance(value, str) or not value or len(value) > limit:
        raise Malformed(f"{what} is a string of 1 to {limit} characters")
    return value


def _audio(payload: object) -> bytes:
    if not isinstance(payload, str):
        raise Malformed("media.payload is base64 audio")
    try:
        audio = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise Malformed("media.payload is not base64") from None
    if not audio or len(audio) > MAX_MEDIA_BYTES:
        raise Malformed(f"media.payload is 1 to {MAX_MEDIA_BYTES} bytes of audio")
    return audio


class TwilioCallLine:
    """The ``CallLine`` over a stream's socket: audio goes out in 20 ms ``media`` messages."""

    def __init__(self, stream_id: str, send: Callable[[str], Awaitable[None]]) -> None:
        self._stream_id = stream_id
        self._send = send

    async def play(self, audio: bytes) -> None:
        for start in range(0, len(audio), FRAME_BYTES):
            payload = base64.b64encode(audio[start : start + FRAME_BYTES]).decode()
            await self._message("media", media={"payload": payload})

    async def mark(self, name: str) -> None:
        await self._message("mark", mark={"name": name})

    async def clear(self) -> None:
        await self._message("clear")

    async def _message(self, event: str, **fields: object) -> None:
        await self._send(json.dumps({"event": event, "streamSid": self._stream_id, **fields}))
