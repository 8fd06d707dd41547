"""The app of the AI routes' tests: fakes of the hearing and seeing engines and a scripted
model put in through the container, an assistant on the web chat, and signed-in callers."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from dependency_injector import providers
from PIL import Image as Pillow

from adapters.memory.audio import FakeAudioConverter
from adapters.memory.language import FakeLanguageModel
from adapters.memory.speech import FakeSpeechToText, FakeTextToSpeech
from adapters.memory.vision import FakeImageUnderstanding, FakeSignLanguageReader
from entrypoints.container import Container
from entrypoints.http.app import create_app
from talia_core.identity.model import Role
from tests.api import Api, open_api, settings_for_tests

WAIT = 5.0
FRONT_DESK = "front-desk"
BACK_OFFICE = "back-office"


class Engines:
    """The fakes the container hands the routes and the socket."""

    def __init__(self) -> None:
        self.hearing = FakeSpeechToText("quiero una cita", language="es")
        self.speaking = FakeTextToSpeech()
        self.converter = FakeAudioConverter()
        self.seeing = FakeImageUnderstanding("una torta de bodas")
        self.signs = FakeSignLanguageReader("A", 0.93)
        self.model = FakeLanguageModel()

    def put_in(self, container: Container) -> None:
        gateways = container.gateways
        gateways.speech_to_text.override(providers.Object(self.hearing))
        gateways.text_to_speech.override(providers.Object(self.speaking))
        gateways.audio_converter.override(providers.Object(self.converter))
        gateways.image_understanding.override(providers.Object(self.seeing))
        gateways.sign_language_reader.override(providers.Object(self.signs))
        gateways.language_models.override(providers.Object({"openai": self.model}))


@asynccontextmanager
async def ai_api(engines: Engines, **ai: Any) -> AsyncIterator[Api]:
    """The app over the in-memory fakes with ``engines``; ``ai`` overrides ``TALIA_AI__*``;
    a ``front-desk`` assistant answers the web chat, a ``back-office`` one no channel."""
    settings = settings_for_tests("sqlite+aiosqlite:///:memory:", ai=ai)
    async with open_api(settings, in_memory=True, prepare=engines.put_in) as api:
        _, admin = await api.user(Role.ADMIN)
        for name, channels in ((FRONT_DESK, ["webchat"]), (BACK_OFFICE, [])):
            definition = {
                "name": name,
                "provider": "openai",
                "model": "gpt-4.1-mini",
                "instructions": "Hola {contact_name}",
                "channels": channels,
                "tools": ["update_lead", "handoff_to_human"],
            }
            created = await api.client.post("/api/assistants", json=definition, headers=admin)
            assert created.status_code == 201, created.text
        yield api


def picture(width: int = 4, height: int = 3, format: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Pillow.new("RGB", (width, height), "white").save(buffer, format=format)
    return buffer.getvalue()


class Closed(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"closed with {code}: {reason}")
        self.code = code
        self.reason = reason


class SocketClient:
    """A WebSocket client speaking ASGI to the app in the test's event loop: frames go in
    as ``websocket.receive`` events, what the app sends comes back in order."""

    def __init__(self, api: Api, path: str, headers: dict[str, str] | None = None) -> None:
        route, _, query = path.partition("?")
        self._scope: dict[str, Any] = {
            "type": "websocket",
            "asgi": {"version": "3.0"},
            "scheme": "ws",
            "http_version": "1.1",
            "path": route,
            "raw_path": route.encode(),
            "root_path": "",
            "query_string": query.encode(),
            "headers": [(b"host", b"talia.test")]
            + [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
            "client": ("127.0.0.1", 50000),
            "server": ("talia.test", 80),
            "subprotocols": [],
            "state": {},
        }
        self._app = create_app(api.container)
        self._incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._outgoing: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._running: asyncio.Task[None] | None = None

    async def __aenter__(self) -> SocketClient:
        await self._incoming.put({"type": "websocket.connect"})
        self._running = asyncio.create_task(
            self._app(self._scope, self._incoming.get, self._outgoing.put)  # type: ignore[arg-type]
        )
        accepted = await self._next()
        assert accepted["type"] == "websocket.accept", accepted
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._incoming.put({"type": "websocket.disconnect", "code": 1000})
        assert self._running is not None
        await asyncio.wait_for(self._running, WAIT)

    async def _next(self) -> dict[str, Any]:
        return await asyncio.wait_for(self._outgoing.get(), WAIT)

    async def send_json(self, value: object) -> None:
        await self._incoming.put({"type": "websocket.receive", "text": json.dumps(value)})

    async def send_text(self, text: str) -> None:
        await self._incoming.put({"type": "websocket.receive", "text": text})

    async def send_bytes(self, data: bytes) -> None:
        await self._incoming.put({"type": "websocket.receive", "bytes": data})

    async def receive_json(self) -> dict[str, Any]:
        """The next event the app sends; ``Closed`` when it closes the socket instead."""
        message = await self._next()
        if message["type"] == "websocket.close":
            raise Closed(message.get("code", 1000), message.get("reason") or "")
        received: dict[str, Any] = json.loads(message["text"])
        return received

    async def events_until(self, kind: str) -> list[dict[str, Any]]:
        """The events up to the first of ``kind``, that one included."""
        events = [await self.receive_json()]
        while events[-1]["type"] != kind:
            events.append(await self.receive_json())
        return events
