"""Twilio's side of a call, simulated over a real WebSocket: the voice webhook is called
signed, its TwiML read, and the stream it names is opened with the parameters it gives.

``TwilioCaller`` sends the caller's audio in 20 ms ``media`` messages at real pace, and
plays what the app sends back as Twilio does: at real pace from a buffer, echoing each
``mark`` once the audio queued before it has played, and on ``clear`` dropping what is
queued (its marks come back at once). Everything received is kept, stamped with the
monotonic clock, so tests and the benchmark can say what came when.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlparse
from xml.etree import ElementTree

import attrs
import httpx
import uvicorn
from litestar import Litestar
from websockets.asyncio.client import ClientConnection, connect

from tests.audio import FRAME_BYTES, SILENCE, frames
from tests.channels import PUBLIC_BASE, TWILIO_SID, twilio_signature

FRAME_SECONDS = 0.02
WAIT_SECONDS = 20.0


@asynccontextmanager
async def served(app: Litestar) -> AsyncIterator[str]:
    """``app`` served by uvicorn on a loopback port, in this event loop."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            app, log_level="warning", access_log=False, lifespan="on", ws="websockets-sansio"
        )
    )
    serving = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        for _ in range(300):
            if server.started or serving.done():
                break
            await asyncio.sleep(0.02)
        assert server.started, "the app did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving
        listener.close()


async def answered_call(base_url: str, call_sid: str, caller: str) -> tuple[str, dict[str, str]]:
    """Call the voice webhook as Twilio does (signed for ``PUBLIC_BASE``): the address of
    the stream its TwiML names, on the server at ``base_url``, and the stream's parameters."""
    form = {
        "CallSid": call_sid,
        "AccountSid": TWILIO_SID,
        "From": caller,
        "To": "+5114000000",
        "CallStatus": "ringing",
        "Direction": "inbound",
    }
    headers = twilio_signature("/api/voice/twilio", form)
    async with httpx.AsyncClient(base_url=base_url) as client:
        response = await client.post("/api/voice/twilio", data=form, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    stream = ElementTree.fromstring(response.text).find("./Connect/Stream")
    assert stream is not None
    url = urlparse(stream.get("url", ""))
    assert f"https://{url.netloc}" == PUBLIC_BASE
    assert url.scheme == "wss"
    parameters = {p.get("name", ""): p.get("value", "") for p in stream.findall("Parameter")}
    return base_url.replace("http", "ws", 1) + url.path, parameters


@attrs.define
class Received:
    at: float
    event: str
    data: Any = None


class TwilioCaller:
    def __init__(self, ws_url: str, call_sid: str, parameters: dict[str, str]) -> None:
        self._url = ws_url
        self.call_sid = call_sid
        self.stream_sid = "MZ" + call_sid[2:]
        self.parameters = parameters
        self.received: list[Received] = []
        self.played: list[str] = []
        """The marks echoed, in order: what the caller heard up to."""
        self.closed: tuple[int, str] | None = None
        self._socket: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._buffer_ends = 0.0
        self._echoes: list[asyncio.Task[None]] = []
        self._pending: list[str] = []
        self._changed = asyncio.Condition()
        self.sequence = 0

    async def __aenter__(self) -> TwilioCaller:
        self._socket = await connect(self._url)
        self._reader = asyncio.create_task(self._read())
        await self.send({"event": "connected", "protocol": "Call", "version": "1.0.0"})
        await self.send(
            {
                "event": "start",
                "start": {
                    "accountSid": TWILIO_SID,
                    "streamSid": self.stream_sid,
                    "callSid": self.call_sid,
                    "tracks": ["inbound"],
                    "customParameters": self.parameters,
                    "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
                },
                "streamSid": self.stream_sid,
            }
        )
        return self

    async def __aexit__(self, *_: object) -> None:
        for echo in self._echoes:
            echo.cancel()
        if self._socket is not None:
            await self._socket.close()
        if self._reader is not None:
            with contextlib.suppress(Exception):
                await self._reader

    async def send(self, message: dict[str, Any]) -> None:
        assert self._socket is not None
        self.sequence += 1
        await self._socket.send(json.dumps({**message, "sequenceNumber": str(self.sequence)}))

    async def say(self, audio: bytes, *, then_silence: float = 0.0) -> float:
        """``audio`` at real pace, then silence; the time its last frame was sent."""
        pieces = frames(audio) + [SILENCE] * round(then_silence / FRAME_SECONDS)
        start = time.monotonic()
        last_speech = start
        for n, frame in enumerate(pieces):
            await asyncio.sleep(max(0.0, start + n * FRAME_SECONDS - time.monotonic()))
            payload = base64.b64encode(frame).decode()
            await self.send(
                {
                    "event": "media",
                    "media": {"track": "inbound", "chunk": str(n + 1), "payload": payload},
                    "streamSid": self.stream_sid,
                }
            )
            if n < len(frames(audio)):
                last_speech = time.monotonic()
        return last_speech

    async def hang_up(self) -> None:
        await self.send(
            {"event": "stop", "stop": {"accountSid": TWILIO_SID, "callSid": self.call_sid}}
        )

    async def until(self, event: str, count: int = 1) -> Received:
        """The ``count``-th message of ``event`` (``played``: marks echoed), within 20 s."""
        async with asyncio.timeout(WAIT_SECONDS), self._changed:
            await self._changed.wait_for(lambda: len(self.of(event)) >= count)
        return self.of(event)[count - 1]

    def of(self, event: str) -> list[Received]:
        return [r for r in self.received if r.event == event]

    def media_between(self, start: float, end: float = float("inf")) -> bytes:
        return b"".join(r.data for r in self.of("media") if start <= r.at < end)

    async def _read(self) -> None:
        assert self._socket is not None
        try:
            async for text in self._socket:
                await self._take(json.loads(text))
        except Exception as closed:
            code = getattr(getattr(closed, "rcvd", None), "code", None)
            reason = getattr(getattr(closed, "rcvd", None), "reason", "")
            self.closed = (code or 0, reason)
        else:
            rcvd = self._socket.close_code
            self.closed = (rcvd or 0, self._socket.close_reason or "")
        async with self._changed:
            self.received.append(Received(time.monotonic(), "closed", self.closed))
            self._changed.notify_all()

    async def _take(self, message: dict[str, Any]) -> None:
        now = time.monotonic()
        event = message["event"]
        assert message["streamSid"] == self.stream_sid
        if event == "media":
            audio = base64.b64decode(message["media"]["payload"])
            assert len(audio) <= FRAME_BYTES
            self._buffer_ends = max(now, self._buffer_ends) + len(audio) / 8000
            data: Any = audio
        elif event == "mark":
            data = message["mark"]["name"]
            self._pending.append(data)
            self._echoes.append(asyncio.create_task(self._echo(data, self._buffer_ends)))
        elif event == "clear":
            data = None
            for echo in self._echoes:
                echo.cancel()
            self._echoes.clear()
            self._buffer_ends = now
            cleared, self._pending = self._pending, []
            for name in cleared:  # Twilio returns the marks of the audio it dropped
                await self.send(
                    {"event": "mark", "streamSid": self.stream_sid, "mark": {"name": name}}
                )
        else:
            raise AssertionError(f"Twilio does not take {event!r}")
        async with self._changed:
            self.received.append(Received(now, event, data))
            self._changed.notify_all()

    async def _echo(self, name: str, at: float) -> None:
        await asyncio.sleep(max(0.0, at - time.monotonic()))
        self._pending.remove(name)
        await self.send({"event": "mark", "streamSid": self.stream_sid, "mark": {"name": name}})
        async with self._changed:
            self.played.append(name)
            self.received.append(Received(time.monotonic(), "played", name))
            self._changed.notify_all()
