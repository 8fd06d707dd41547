"""The direct AI routes through the real app, each engine built as the container builds it
from the settings and asking its provider's local server (``tests/perception_servers``):
Hugging Face, OpenAI, and espeak-ng with the PyAV converter run here. The hearing and
seeing routes touch no table, so they run on SQLite. A frontend's chat, which reads the
assistants and records model calls, runs on every database: over ``POST /api/ai/chat`` and
over ``WS /api/ai/ws`` with voice (the app served by uvicorn, a WebSocket client, Hugging
Face's local server hearing and speaking, the scripted model answering); what the model
answers is returned, nothing of the conversation is stored but its calls, in the usage
ledger with no conversation."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from talia_core.shared.media import MP3, sniff
from talia_core.shared.vision import Box, DetectedObject
from tests.api import assert_problem
from tests.conftest import Engines
from tests.databases import empty_tables
from tests.integration.http.assistants import World, open_world
from tests.integration.http.test_webchat_drafts_flow import serving
from tests.integration.perception.conftest import (
    RECOGNITION,
    SIGNS,
    SPEECH,
    Failing,
    hugging_face,
    openai_server,
)
from tests.perception_servers.huggingface import TOKEN, FakeHuggingFaceInference
from tests.perception_servers.media import photo, spoken
from tests.perception_servers.openai import API_KEY, FakeOpenAIPerception

TRANSCRIBE, SAY, IMAGE = "/api/ai/transcribe", "/api/ai/speech", "/api/ai/image"
WAIT = 5.0
ONE_ATTEMPT = {"retry_attempts": 1}
__all__ = ["hugging_face", "openai_server"]  # the perception suites' servers, used here too
CAKE = DetectedObject("cake", 0.97, Box(80, 60, 160, 120))


@pytest.fixture
async def sqlite_url(engines: Engines) -> AsyncIterator[str]:
    engine = await engines.get("sqlite")
    yield engine.url.render_as_string(hide_password=False)
    await empty_tables(engine)


def wired(provider: str, hugging_face: str, openai: str) -> dict[str, Any]:
    """The settings that give every capability to ``provider``'s local server."""
    if provider == "huggingface":
        return {
            "huggingface": {"token": TOKEN},
            "perception": {
                "speech_to_text": "huggingface",
                "text_to_speech": "huggingface",
                "images": "huggingface",
                "signs": "huggingface",
                "sign_model": SIGNS,
                "huggingface_url": hugging_face,
            },
        }
    return {
        "openai": {"api_key": API_KEY, "base_url": f"{openai}/v1"},
        "perception": {"speech_to_text": "openai", "text_to_speech": "openai", "images": "openai"},
    }


@pytest.fixture(params=["huggingface", "openai"])
def provider(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
async def world(
    provider: str,
    sqlite_url: str,
    tmp_path: Path,
    hugging_face: FakeHuggingFaceInference,
    openai_server: FakeOpenAIPerception,
) -> AsyncIterator[World]:
    settings = wired(provider, hugging_face.base_url, openai_server.base_url)
    async with open_world(sqlite_url, tmp_path, resilience=ONE_ATTEMPT, **settings) as opened:
        yield opened


@pytest.fixture
def server(
    provider: str, hugging_face: FakeHuggingFaceInference, openai_server: FakeOpenAIPerception
) -> FakeHuggingFaceInference | FakeOpenAIPerception:
    return hugging_face if provider == "huggingface" else openai_server


async def test_audio_is_transcribed_by_the_provider(
    world: World, server: FakeHuggingFaceInference | FakeOpenAIPerception
) -> None:
    server.will_hear("quiero una cita para el sábado")

    response = await world.api.client.post(
        TRANSCRIBE, files={"file": ("nota", spoken())}, data={"language": "es"}, headers=world.agent
    )

    assert response.status_code == 200, response.text
    assert response.json()["text"] == "quiero una cita para el sábado"
    assert len(server.requests) == 1


@pytest.mark.parametrize(("format", "magic"), [(None, b"RIFF"), ("ogg_opus", b"OggS")])
async def test_text_is_spoken_by_the_provider_in_the_format_asked(
    world: World,
    server: FakeHuggingFaceInference | FakeOpenAIPerception,
    format: str | None,
    magic: bytes,
) -> None:
    body = {"text": "Hola, Ana", **({"format": format} if format else {})}
    response = await world.api.client.post(SAY, json=body, headers=world.agent)

    assert response.status_code == 200, response.text
    assert response.content.startswith(magic)
    assert response.headers["content-type"] == ("audio/ogg" if format else "audio/wav")
    assert len(server.requests) == 1


async def test_an_image_is_captioned_and_its_objects_found_by_the_provider(
    world: World, server: FakeHuggingFaceInference | FakeOpenAIPerception
) -> None:
    server.objects = [CAKE]
    image = {"file": ("foto", photo().content)}

    caption = await world.api.client.post(
        IMAGE, files=image, data={"task": "caption"}, headers=world.agent
    )
    objects = await world.api.client.post(
        IMAGE, files=image, data={"task": "objects"}, headers=world.agent
    )

    assert caption.status_code == 200, caption.text
    assert caption.json() == {"task": "caption", "caption": server.caption}
    assert objects.status_code == 200, objects.text
    assert objects.json()["objects"] == [
        {
            "label": "cake",
            "score": 0.97,
            "box": {"x_min": 80, "y_min": 60, "x_max": 160, "y_max": 120},
        }
    ]


async def test_a_sign_is_read_by_hugging_face_and_not_configured_for_openai(
    world: World, provider: str, hugging_face: FakeHuggingFaceInference
) -> None:
    response = await world.api.client.post(
        IMAGE, files={"file": ("seña", photo().content)}, data={"task": "sign"}, headers=world.agent
    )

    if provider == "openai":
        assert_problem(response, 501)
        return
    assert response.status_code == 200, response.text
    assert response.json() == {"task": "sign", "sign": "A", "score": 0.9, "alternatives": []}
    assert [request.path for request in hugging_face.requests] == [f"/models/{SIGNS}"]


@pytest.mark.parametrize("status", [429, 503])
async def test_a_busy_provider_is_a_503_saying_when_to_come_back(
    world: World, server: FakeHuggingFaceInference | FakeOpenAIPerception, status: int
) -> None:
    Failing(server).go_busy(status, retry_after=7)

    response = await world.api.client.post(
        IMAGE,
        files={"file": ("foto", photo().content)},
        data={"task": "caption"},
        headers=world.agent,
    )

    assert_problem(response, 503)
    assert response.headers["retry-after"] == "7"


async def test_espeak_speaks_here_without_a_provider(sqlite_url: str, tmp_path: Path) -> None:
    async with open_world(sqlite_url, tmp_path, perception={"text_to_speech": "espeak"}) as world:
        response = await world.api.client.post(
            SAY, json={"text": "Hola, ¿en qué te ayudo?", "format": "mp3"}, headers=world.agent
        )

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "audio/mpeg"
    assert sniff(response.content) == MP3


@pytest.fixture
async def chat_world(
    database_url: str, tmp_path: Path, hugging_face: FakeHuggingFaceInference
) -> AsyncIterator[World]:
    hearing = {
        "speech_to_text": "huggingface",
        "text_to_speech": "huggingface",
        "huggingface_url": hugging_face.base_url,
    }
    async with open_world(
        database_url, tmp_path, huggingface={"token": TOKEN}, perception=hearing
    ) as opened:
        await opened.assistant("front-desk", channels=["webchat"])
        yield opened


async def stored_calls(world: World) -> list[dict[str, Any]]:
    today = datetime.now(UTC).date().isoformat()
    calls = await world.api.client.get(
        f"/api/admin/usage/calls?from={today}&to={today}", headers=world.admin
    )
    assert calls.status_code == 200, calls.text
    items: list[dict[str, Any]] = calls.json()["items"]
    return items


async def test_a_chat_turn_is_answered_and_only_its_model_call_is_kept(
    chat_world: World,
) -> None:
    world = chat_world
    world.model.answer("Hola, ¿para qué fecha es tu boda?")
    messages = [{"role": "user", "text": "hola, me caso"}]

    response = await world.api.client.post(
        "/api/ai/chat", json={"messages": messages}, headers=world.agent
    )

    assert response.status_code == 200, response.text
    assert response.json()["messages"] == ["Hola, ¿para qué fecha es tu boda?"]
    conversations = await world.api.client.get("/api/conversations", headers=world.agent)
    assert conversations.json()["items"] == []
    [call] = await stored_calls(world)
    assert (call["assistant_name"], call["conversation_id"]) == ("front-desk", None)


async def events_until(connection: ClientConnection, kind: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    while not events or events[-1]["type"] != kind:
        events.append(json.loads(await asyncio.wait_for(connection.recv(), WAIT)))
    return events


async def test_a_voice_turn_on_the_socket_is_heard_answered_and_spoken(
    chat_world: World, hugging_face: FakeHuggingFaceInference
) -> None:
    world = chat_world
    hugging_face.will_hear("quiero una cita")
    world.model.answer("Claro, ¿qué día te acomoda?")
    token = world.agent["Authorization"].removeprefix("Bearer ")
    wav = spoken(0.8)

    async with serving(world.api) as root, connect(f"{root}/api/ai/ws?language=es") as connection:
        await connection.send(json.dumps({"type": "auth", "token": token}))
        ready = await events_until(connection, "ready")
        for start in range(0, len(wav), 8192):
            await connection.send(wav[start : start + 8192])
        await connection.send(json.dumps({"type": "audio_end"}))
        events = await events_until(connection, "audio")

    assert [event["type"] for event in ready] == ["ready"]
    transcript, *_, answer, audio = events
    assert (transcript["type"], transcript["text"]) == ("transcript", "quiero una cita")
    assert answer["text"] == "Claro, ¿qué día te acomoda?"
    assert base64.b64decode(audio["data"]).startswith(b"RIFF")
    assert [request.path for request in hugging_face.requests] == [
        f"/models/{RECOGNITION}",
        f"/models/{SPEECH}",
    ]
    assert hugging_face.requests[0].body == wav
    [call] = await stored_calls(world)
    assert call["conversation_id"] is None
