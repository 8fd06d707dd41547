"""Phone calls: Twilio's voice webhook and the call's Media Stream.

``POST /api/voice/twilio`` is signed like Twilio's WhatsApp webhook and answers TwiML that
connects the call's audio to ``WS /api/voice/stream``, with a token tied to the call and
the caller's number. The stream is accepted only with that token in its ``start``; a
missing, forged or expired token, or a frame that is not Media Streams' JSON, closes the
socket with 1008 (policy violation), and a stream refused before its call started stores
nothing. The call itself is ``CallSession``'s: this module reads and writes the wire.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import attrs
from litestar import Controller, Request, Response, WebSocket, post, websocket
from litestar.di import NamedDependency
from litestar.exceptions import WebSocketDisconnect
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import SkipValidation
from litestar.types import ControllerRouterHandler

from adapters.channels.twilio_voice import stream, twiml
from adapters.channels.twilio_voice.tokens import StreamTokens
from entrypoints.http.auth import public
from entrypoints.http.channels import FORM, Webhooks, signed_twilio_form
from entrypoints.http.errors import problem_response, problems
from entrypoints.http.public_writes import NOT_LIMITED
from talia_core.conversations.call_ports import VoiceActivity
from talia_core.conversations.call_session import CallSession
from talia_core.conversations.calls import VoiceCalls
from talia_core.conversations.voice_call import TurnTaking
from talia_core.shared.errors import Malformed
from talia_core.shared.speech import AudioConverter, SpeechToText, TextToSpeech

logger = logging.getLogger("talia.voice")

POLICY_VIOLATION = 1008
MAX_CALL_ID = 64
MAX_CALLER = 64
"""A number in E.164 is at most 16 characters; a SIP or client caller can be longer."""
START_SECONDS = 10.0
"""How long an opened stream has to send its ``start``."""


@attrs.frozen
class VoiceLine:
    """What the voice routes need besides the use case and the speech engines."""

    tokens: StreamTokens
    activity: VoiceActivity
    policy: TurnTaking
    language: str


class VoiceController(Controller):
    path = "/api/voice"
    tags = ["channels"]

    @post(
        "/twilio",
        guards=[public],
        opt=NOT_LIMITED,
        status_code=200,
        media_type="application/xml",
        responses={
            200: ResponseSpec(
                data_container=str,
                media_type="application/xml",
                description="TwiML connecting the call to the stream",
                generate_examples=False,
            ),
            **problems(400, 401, 403, 404, 413, 415),
        },
    )
    async def incoming_call(
        self,
        request: Request[Any, Any, Any],
        webhooks: NamedDependency[Webhooks],
        voice_line: NamedDependency[VoiceLine],
    ) -> Response[Any]:
        """Twilio's voice webhook: TwiML connecting the call to our stream."""
        params = await signed_twilio_form(request, webhooks)
        if params is None:
            return problem_response(request, 415, f"Twilio webhooks are {FORM}")
        form = dict(params)
        call_id, caller = form.get("CallSid", ""), form.get("From", "")
        if not 0 < len(call_id) <= MAX_CALL_ID or not 0 < len(caller) <= MAX_CALLER:
            raise Malformed("a call needs its CallSid and From")
        token = voice_line.tokens.mint(call_id, caller)
        base = webhooks.settings.public_base_url or f"{request.url.scheme}://{request.url.netloc}"
        document = twiml.connect_stream(twiml.stream_url(base), {"token": token, "caller": caller})
        return Response(document, media_type="application/xml")


@websocket(twiml.STREAM_PATH, guards=[public])
async def voice_stream(
    socket: WebSocket[Any, Any, Any],
    voice_line: NamedDependency[VoiceLine],
    voice_calls: NamedDependency[VoiceCalls],
    speech_to_text: NamedDependency[SkipValidation[SpeechToText]],
    text_to_speech: NamedDependency[SkipValidation[TextToSpeech]],
    audio_converter: NamedDependency[SkipValidation[AudioConverter]],
) -> None:
    """Twilio Media Streams of a call our voice webhook answered."""
    await socket.accept()
    try:
        async with asyncio.timeout(START_SECONDS):
            started = await _started(socket, voice_line.tokens)
    except (Malformed, TimeoutError) as refused:
        logger.warning("a voice stream was refused: %s", refused or "no start in time")
        await socket.close(code=POLICY_VIOLATION, reason=str(refused)[:120])
        return
    except WebSocketDisconnect:
        return
    call = await voice_calls.connect(started.call_id, started.parameters["caller"])
    session = CallSession(
        voice_calls,
        call,
        line=stream.TwilioCallLine(started.stream_id, socket.send_text),
        detector=voice_line.activity.detector(),
        hearing=speech_to_text,
        speech=text_to_speech,
        converter=audio_converter,
        policy=voice_line.policy,
        language=voice_line.language,
    )
    try:
        await session.greet()
        await _converse(socket, session)
    except Malformed as refused:
        logger.warning("call %s: the stream was closed: %s", call.call_id, refused)
        await socket.close(code=POLICY_VIOLATION, reason=str(refused)[:120])
    except WebSocketDisconnect:
        pass
    finally:
        await session.end()


async def _started(socket: WebSocket[Any, Any, Any], tokens: StreamTokens) -> stream.Started:
    while True:
        event = stream.parse(await socket.receive_text())
        if isinstance(event, stream.Ignored):
            continue
        if not isinstance(event, stream.Started):
            raise Malformed("a stream begins with its start")
        caller = event.parameters.get("caller", "")
        if not tokens.valid(event.parameters.get("token"), event.call_id, caller):
            raise Malformed("the stream's token is missing, expired or not this call's")
        return event


async def _converse(socket: WebSocket[Any, Any, Any], session: CallSession) -> None:
    rest = b""
    while True:
        event = stream.parse(await socket.receive_text())
        if isinstance(event, stream.Media):
            audio = rest + event.audio
            whole = len(audio) - len(audio) % stream.FRAME_BYTES
            for at in range(0, whole, stream.FRAME_BYTES):
                await session.hear(audio[at : at + stream.FRAME_BYTES])
            rest = audio[whole:]
        elif isinstance(event, stream.Marked):
            await session.played(event.name)
        elif isinstance(event, stream.Stopped):
            return
        elif isinstance(event, stream.Started):
            raise Malformed("a stream starts once")


CONTROLLERS: list[ControllerRouterHandler] = [VoiceController, voice_stream]
