"""``WS /api/ai/ws``: a chat with an assistant by text and by voice on one socket.

The client signs in with its access token (the ``Authorization`` header, ``?token=``, or a
first message ``{"type": "auth", "token": …}``), then sends text turns and utterances: audio
chunks (binary frames, or ``{"type": "audio", "data": base64}``) closed by
``{"type": "audio_end"}``. The server answers ``transcript``, ``draft`` (pieces of the answer
as the model writes them), ``answer`` and ``audio`` events; what goes wrong is an ``error``
event with the HTTP status the same error has on the routes, and the socket stays open.
The socket keeps the conversation (its last ``TALIA_AI__MAX_CHAT_MESSAGES`` messages) while
it is open; nothing is stored. The protocol is described in ``docs/ai.md``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import re
from typing import Any

from litestar import WebSocket, websocket
from litestar.di import NamedDependency
from litestar.params import SkipValidation

from entrypoints.http.ai import (
    AiThrottle,
    ChatOut,
    admitted,
    history,
    is_staff,
    language_code,
)
from entrypoints.http.auth import public
from entrypoints.http.errors import ERROR_TABLE
from entrypoints.http.schemas import PRINTABLE
from entrypoints.http.webchat import UNAUTHORIZED_CLOSE
from entrypoints.settings.ai import AiSettings
from talia_core.assistants.definition import MAX_NAME_LENGTH
from talia_core.assistants.direct import DirectChat
from talia_core.assistants.turn import TurnResult
from talia_core.identity.auth_service import AuthService
from talia_core.identity.model import Principal
from talia_core.shared.errors import Malformed, RuleViolated, TaliaError, Unauthorized
from talia_core.shared.media import MediaKind, MediaTooLarge
from talia_core.shared.speech import PCM, Audio, SpeechToText, TextToSpeech

logger = logging.getLogger("talia.ai")

POLICY_VIOLATION = 1008
MESSAGE_TOO_BIG = 1009
PCM_RATE = 16_000
"""The rate of raw PCM utterances (``"format": "pcm_16k"``)."""


def _asked(socket: WebSocket[Any, Any, Any]) -> tuple[str | None, str | None]:
    """The assistant and the language the query asks for, refused unless readable."""
    assistant = socket.query_params.get("assistant") or None
    if assistant is not None and (
        len(assistant) > MAX_NAME_LENGTH or not re.fullmatch(PRINTABLE, assistant)
    ):
        raise RuleViolated("assistant is not an assistant's name", {"assistant": "bad"})
    return assistant, language_code(socket.query_params.get("language"))


class _Closed(Exception):
    """The client left, or the socket was closed for what the client sent."""


@websocket("/api/ai/ws", guards=[public])
async def ai_socket(
    socket: WebSocket[Any, Any, Any],
    auth: NamedDependency[AuthService],
    direct_chat: NamedDependency[DirectChat],
    ai_settings: NamedDependency[AiSettings],
    ai_throttle: NamedDependency[AiThrottle],
    speech_to_text: NamedDependency[SkipValidation[SpeechToText]],
    text_to_speech: NamedDependency[SkipValidation[TextToSpeech]],
) -> None:
    """Text and voice turns with ``?assistant=`` (the web chat's entry one when absent);
    ``?language=`` is the hint given to the engines."""
    await socket.accept()
    try:
        assistant, language = _asked(socket)
    except RuleViolated as refused:
        await socket.close(code=POLICY_VIOLATION, reason=refused.detail[:120])
        return
    session = VoiceChat(
        socket,
        ai_settings,
        ai_throttle,
        direct_chat,
        speech_to_text,
        text_to_speech,
        assistant=assistant,
        language=language,
    )
    try:
        principal = await session.sign_in(auth)
        if principal is not None:
            await session.serve(principal)
    except _Closed:
        pass


class VoiceChat:
    """One socket's session: the conversation so far and the utterance being received."""

    def __init__(
        self,
        socket: WebSocket[Any, Any, Any],
        settings: AiSettings,
        throttle: AiThrottle,
        chat: DirectChat,
        hearing: SpeechToText,
        speaking: TextToSpeech,
        *,
        assistant: str | None,
        language: str | None,
    ) -> None:
        """``assistant``: the one each turn starts with (None: the web chat's entry one);
        ``language``: the hint the engines are given (ISO 639-1)."""
        self._socket = socket
        self._settings = settings
        self._throttle = throttle
        self._chat = chat
        self._hearing = hearing
        self._speaking = speaking
        self._assistant = assistant
        self._language = language
        self._said: list[tuple[str, str]] = []
        self._utterance = bytearray()
        self._dropping = False
        """The utterance went over its limit: its chunks are dropped until ``audio_end``."""

    async def sign_in(self, auth: AuthService) -> Principal | None:
        """The caller, or None after closing the socket with 4401."""
        principal = self._socket.scope.get("user")
        if isinstance(principal, Principal):
            return principal
        token = self._socket.query_params.get("token")
        if token is None:
            try:
                first = await asyncio.wait_for(self._frame(), self._settings.auth_seconds)
            except TimeoutError:
                first = None
            if isinstance(first, dict) and first.get("type") == "auth":
                token = first.get("token") if isinstance(first.get("token"), str) else None
            if token is None:
                await self._refuse("send {type: 'auth', token} first")
                return None
        try:
            return await auth.authenticate(token)
        except Unauthorized as refused:
            await self._refuse(refused.detail)
            return None

    async def _refuse(self, reason: str) -> None:
        await self._socket.close(code=UNAUTHORIZED_CLOSE, reason=reason[:120])

    async def serve(self, principal: Principal) -> None:
        await self._socket.send_json({"type": "ready", "user_id": principal.user_id})
        while True:
            received = await self._frame()
            try:
                await self._handle(principal, received)
            except TaliaError as error:
                await self._error(error)
            except _Closed:
                raise
            except Exception:  # a bug must not end the user's session: it is logged
                logger.exception("the AI socket could not handle a message")
                await self._socket.send_json(
                    {"type": "error", "status": 500, "detail": "an unexpected error; it was logged"}
                )

    async def _frame(self) -> bytes | dict[str, Any] | Any:
        """The next frame: bytes as sent, text as the JSON it holds (``Malformed`` is kept
        for the caller as a value, to be answered as an error)."""
        message = await self._socket.receive()
        if message["type"] == "websocket.disconnect":
            raise _Closed
        data, text = message.get("bytes"), message.get("text")
        size = len(data) if isinstance(data, bytes) else len(str(text or "").encode())
        if size > self._settings.max_frame_bytes:
            await self._socket.close(
                code=MESSAGE_TOO_BIG,
                reason=f"frames are at most {self._settings.max_frame_bytes} bytes",
            )
            raise _Closed
        if isinstance(data, bytes):
            return data
        try:
            return json.loads(str(text or ""))
        except ValueError:
            return Malformed("a text frame must be a JSON object")

    async def _handle(self, principal: Principal, received: object) -> None:
        if isinstance(received, bytes):
            await self._chunk(received)
            return
        if isinstance(received, Malformed):
            raise received
        if not isinstance(received, dict):
            raise Malformed("a text frame must be a JSON object")
        kind = received.get("type")
        if kind == "audio":
            await self._chunk(_decoded(received))
        elif kind == "audio_end":
            await self._hear(principal, received)
        elif kind == "text":
            text = received.get("text")
            if not isinstance(text, str):
                raise Malformed("a text message has a 'text' string")
            await self._throttle.count(principal.user_id)
            await self._turn(principal, text, speak=received.get("speak") is True)
        else:
            raise Malformed("send a message of type text, audio or audio_end")

    async def _chunk(self, chunk: bytes) -> None:
        if self._dropping:
            return
        if len(self._utterance) + len(chunk) > self._settings.max_audio_bytes:
            self._utterance.clear()
            self._dropping = True
            raise MediaTooLarge(
                f"the utterance is over {self._settings.max_audio_bytes} bytes: it is dropped"
            )
        self._utterance += chunk

    async def _hear(self, principal: Principal, received: dict[str, Any]) -> None:
        content, dropped = bytes(self._utterance), self._dropping
        self._utterance.clear()
        self._dropping = False
        if dropped:
            return
        await self._throttle.count(principal.user_id)
        if received.get("format") == "pcm_16k":
            if not content:
                raise Malformed("the utterance has no audio")
            audio = Audio(content, PCM, PCM_RATE)
        else:
            mime_type = admitted(content, MediaKind.AUDIO, self._settings.max_audio_bytes)
            audio = Audio(content, mime_type)
        heard = await self._hearing.transcribe(audio, language=self._language)
        await self._socket.send_json(
            {
                "type": "transcript",
                "text": heard.text,
                "language": heard.language,
                "duration_seconds": heard.duration_seconds,
            }
        )
        if heard.text.strip():
            await self._turn(principal, heard.text, speak=received.get("speak") is not False)

    async def _turn(self, principal: Principal, text: str, *, speak: bool) -> None:
        said = [*self._said, ("user", text)][-self._settings.max_chat_messages :]
        result = await self._chat.answer(
            history(said, self._settings),
            assistant=self._assistant,
            staff=is_staff(principal),
            name=principal.name,
            drafting=self._draft,
        )
        self._said = [*said, *(("assistant", m) for m in result.messages)]
        await self._socket.send_json(_answer(result))
        if speak and result.messages:
            audio = await self._speaking.synthesize(
                "\n".join(result.messages), language=self._language
            )
            await self._socket.send_json(
                {
                    "type": "audio",
                    "mime_type": audio.mime_type,
                    "data": base64.b64encode(audio.content).decode("ascii"),
                }
            )

    async def _draft(self, piece: str) -> None:
        await self._socket.send_json({"type": "draft", "text": piece})

    async def _error(self, error: TaliaError) -> None:
        status = next((code for kind, code in ERROR_TABLE.items() if isinstance(error, kind)), 500)
        event: dict[str, Any] = {"type": "error", "status": status, "detail": error.detail}
        retry_after = getattr(error, "retry_after_seconds", None)  # a limit, or an outage
        if retry_after:
            event["retry_after"] = retry_after
        await self._socket.send_json(event)


def _decoded(received: dict[str, Any]) -> bytes:
    data = received.get("data")
    if not isinstance(data, str):
        raise Malformed("an audio message has 'data', base64")
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise Malformed("an audio message's data is not base64") from None


def _answer(result: TurnResult) -> dict[str, Any]:
    return {"type": "answer", "text": "\n".join(result.messages), **ChatOut.of(result).model_dump()}


CONTROLLERS = [ai_socket]
