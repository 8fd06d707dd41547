"""A web chat visitor watches the answer being written, through the real app on every
database: a WebSocket client on ``/api/webchat/ws`` (the app served by uvicorn on a
loopback port, in the test's event loop), the model of each provider as the container
wires it, streaming from its local server (Responses events, chat completion chunks)."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from websockets.asyncio.client import ClientConnection, connect

from entrypoints.http.app import create_app
from tests.api import Api
from tests.integration.http.assistants import World, open_world
from tests.integration.language.chat_server import TOKEN, FakeChatCompletions
from tests.integration.language.responses_server import API_KEY, FakeResponses
from tests.integration.language.scripted import ScriptedModelServer

WAIT = 5.0
STEPS = 500
ANSWER = "Hola Ana, ¿en qué te ayudo con tu invitación?"


async def until(condition: Callable[[], bool]) -> None:
    """Checks ``condition``, a state no event tells of, a step at a time until it holds."""
    for _ in range(STEPS):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"still not so after {STEPS} steps")


@asynccontextmanager
async def serving(api: Api) -> AsyncIterator[str]:
    """The app over ``api``'s container (its resources already open), served by uvicorn in
    this event loop: the ``ws://`` root a WebSocket client reaches."""
    app = create_app(api.container)
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning"))
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        served = asyncio.create_task(server.serve(sockets=[listener]))
        try:
            await until(lambda: server.started or served.done())
            assert server.started, served.result()
            yield f"ws://127.0.0.1:{listener.getsockname()[1]}"
        finally:
            server.should_exit = True
            await served


async def frames_until_the_answer(connection: ClientConnection) -> list[dict[str, Any]]:
    frames: list[dict[str, Any]] = []
    while not frames or frames[-1].get("message", {}).get("author") != "bot":
        frames.append(json.loads(await asyncio.wait_for(connection.recv(), WAIT)))
    return frames


@pytest.fixture
async def world(
    database_url: str, tmp_path: Path, responses: FakeResponses, chat: FakeChatCompletions
) -> AsyncIterator[World]:
    async with open_world(
        database_url,
        tmp_path,
        wired=["openai"],
        openai={"api_key": API_KEY, "base_url": f"{responses.base_url}/v1"},
        huggingface={"token": TOKEN, "base_url": chat.base_url},
    ) as opened:
        yield opened


@pytest.mark.parametrize(
    ("provider", "model"),
    [("openai", "gpt-4.1-mini"), ("huggingface", "meta-llama/Llama-3.1-8B-Instruct")],
)
async def test_the_visitors_socket_gets_drafts_of_the_answer_then_the_answer(
    world: World,
    responses: FakeResponses,
    chat: FakeChatCompletions,
    provider: str,
    model: str,
) -> None:
    server: ScriptedModelServer = responses if provider == "openai" else chat
    await world.assistant("front-desk", provider=provider, model=model, channels=["webchat"])
    server.will_answer(ANSWER)
    session = (await world.api.client.post("/api/webchat/sessions", json={"name": "Ana"})).json()
    visitor = {"Authorization": f"Bearer {session['token']}"}

    async with (
        serving(world.api) as root,
        connect(f"{root}/api/webchat/ws?token={session['token']}") as connection,
    ):
        # Once the socket watches its session on the live feed, nothing published is missed.
        feed = world.api.container.gateways.live_feed()
        await until(lambda: feed.watching(session["session_id"]) == 1)
        sent = await world.api.client.post(
            "/api/webchat/messages", json={"text": "hola"}, headers=visitor
        )
        assert sent.status_code == 202, sent.text
        await world.run_jobs()
        frames = await frames_until_the_answer(connection)

    drafts = [f["text"] for f in frames if f["type"] == "draft"]
    assert [f["type"] for f in frames] == ["message", *["draft"] * len(drafts), "message"]
    assert frames[0]["message"]["text"] == "hola"
    assert frames[-1]["message"]["text"] == ANSWER
    assert len(drafts) > 1
    assert "".join(drafts) == ANSWER
    assert [(body["model"], body["stream"]) for body in server.bodies()] == [(model, True)]
