"""``WS /api/ai/ws`` end to end over fakes: text and voice turns with a scripted model, a
fake recogniser and a fake synthesiser; sign-in refused; frames, utterances and turns
held to their limits; what goes wrong is an error event and the socket goes on."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from adapters.memory.speech import tone
from talia_core.assistants.language import Role as Speaking
from talia_core.shared.errors import ExternalServiceUnavailable
from talia_core.shared.speech import PCM
from tests.api import Api
from tests.unit.http.ai.fakes import FRONT_DESK, Closed, Engines, SocketClient, ai_api

SOCKET = "/api/ai/ws"
UNAUTHORIZED = 4401


@pytest.fixture
async def token(api: Api) -> str:
    _, headers = await api.user()
    return headers["Authorization"].removeprefix("Bearer ")


def signed_in(api: Api, token: str) -> SocketClient:
    return SocketClient(api, f"{SOCKET}?token={token}")


async def ready(client: SocketClient) -> None:
    assert (await client.receive_json())["type"] == "ready"


@asynccontextmanager
async def socket_with(engines: Engines, **ai: Any) -> AsyncIterator[SocketClient]:
    """A customer's socket, signed in, on an app whose ``TALIA_AI__*`` settings are ``ai``."""
    async with ai_api(engines, **ai) as api:
        _, headers = await api.user()
        async with signed_in(api, headers["Authorization"].removeprefix("Bearer ")) as client:
            await ready(client)
            yield client


async def test_a_text_turn_is_answered_as_it_is_written(
    api: Api, engines: Engines, token: str
) -> None:
    engines.model.answer("Hola Ana, ¿qué fecha tienes en mente?")
    async with signed_in(api, token) as client:
        await ready(client)
        await client.send_json({"type": "text", "text": "hola"})
        events = await client.events_until("answer")

    *drafts, answer = events
    assert {draft["type"] for draft in drafts} == {"draft"}
    assert "".join(draft["text"] for draft in drafts) == answer["text"]
    assert answer["text"] == "Hola Ana, ¿qué fecha tienes en mente?"
    assert (answer["assistant"], answer["version"], answer["hand_off"]) == (FRONT_DESK, 1, False)
    assert engines.speaking.spoken == []


async def test_a_voice_turn_is_heard_answered_and_spoken(
    api: Api, engines: Engines, token: str
) -> None:
    engines.model.answer("Claro, ¿qué día?")
    wav = tone(0.6)
    async with signed_in(api, token) as client:
        await ready(client)
        for start in range(0, len(wav), 4096):
            await client.send_bytes(wav[start : start + 4096])
        await client.send_json({"type": "audio_end"})
        transcript = await client.receive_json()
        events = await client.events_until("audio")

    assert transcript == {
        "type": "transcript",
        "text": "quiero una cita",
        "language": "es",
        "duration_seconds": 0.6,
    }
    answer, audio = events[-2:]
    assert answer["text"] == "Claro, ¿qué día?"
    assert audio["mime_type"] == "audio/wav"
    assert base64.b64decode(audio["data"]).startswith(b"RIFF")
    assert [heard.content for heard in engines.hearing.heard] == [wav]
    assert engines.speaking.spoken == ["Claro, ¿qué día?"]


async def test_raw_pcm_sent_as_base64_is_heard_at_16_khz(
    api: Api, engines: Engines, token: str
) -> None:
    samples = bytes(16_000)  # half a second of 16-bit samples
    async with signed_in(api, token) as client:
        await ready(client)
        data = base64.b64encode(samples).decode()
        await client.send_json({"type": "audio", "data": data})
        await client.send_json({"type": "audio_end", "format": "pcm_16k", "speak": False})
        transcript = await client.receive_json()
        await client.events_until("answer")

    assert transcript["duration_seconds"] == 0.5
    (heard,) = engines.hearing.heard
    assert (heard.content, heard.mime_type, heard.sample_rate) == (samples, PCM, 16_000)
    assert engines.speaking.spoken == []


async def test_the_socket_keeps_the_conversation_between_turns(
    api: Api, engines: Engines, token: str
) -> None:
    engines.model.answer("¿Para cuántas personas?")
    engines.model.answer("Perfecto.")
    async with signed_in(api, token) as client:
        await ready(client)
        await client.send_json({"type": "text", "text": "una boda"})
        await client.events_until("answer")
        await client.send_json({"type": "text", "text": "cien", "speak": True})
        await client.events_until("audio")

    second = engines.model.requests[-1]
    assert [(said.role, said.text) for said in second.input] == [
        (Speaking.USER, "una boda"),
        (Speaking.ASSISTANT, "¿Para cuántas personas?"),
        (Speaking.USER, "cien"),
    ]
    assert engines.speaking.spoken == ["Perfecto."]


async def test_a_token_in_the_first_message_or_the_header_signs_in(
    api: Api, engines: Engines, token: str
) -> None:
    async with SocketClient(api, SOCKET) as client:
        await client.send_json({"type": "auth", "token": token})
        await ready(client)
        await client.send_json({"type": "text", "text": "hola"})
        await client.events_until("answer")
    async with SocketClient(api, SOCKET, {"Authorization": f"Bearer {token}"}) as client:
        await ready(client)

    assert len(engines.model.requests) == 1


@pytest.mark.parametrize(
    "first",
    [None, {"type": "text", "text": "hola"}, {"type": "auth", "token": "forged"}],
    ids=["silence", "no auth message", "a forged token"],
)
async def test_a_socket_that_does_not_sign_in_is_closed_and_nothing_runs(
    api: Api, engines: Engines, first: dict[str, str] | None
) -> None:
    async with SocketClient(api, SOCKET) as client:
        if first is not None:
            await client.send_json(first)
        with pytest.raises(Closed) as closed:
            await client.receive_json()

    assert closed.value.code == UNAUTHORIZED
    assert engines.model.requests == []


async def test_a_forged_token_in_the_query_is_refused(api: Api) -> None:
    async with SocketClient(api, f"{SOCKET}?token=forged") as client:
        with pytest.raises(Closed) as closed:
            await client.receive_json()

    assert closed.value.code == UNAUTHORIZED


@pytest.mark.parametrize(
    "query", ["language=spanish", "assistant=front%00desk", "assistant=" + "a" * 65]
)
async def test_a_socket_asking_for_what_cannot_be_is_closed_as_a_policy_violation(
    api: Api, engines: Engines, token: str, query: str
) -> None:
    async with SocketClient(api, f"{SOCKET}?token={token}&{query}") as client:
        with pytest.raises(Closed) as closed:
            await client.receive_json()

    assert closed.value.code == 1008
    assert engines.model.requests == []


async def test_a_frame_over_the_limit_closes_the_socket_with_1009(
    api: Api, engines: Engines, token: str
) -> None:
    async with signed_in(api, token) as client:
        await ready(client)
        await client.send_bytes(bytes(1024 * 1024 + 1))
        with pytest.raises(Closed) as closed:
            await client.receive_json()

    assert closed.value.code == 1009
    assert engines.hearing.heard == []


async def test_an_utterance_over_the_limit_is_dropped_and_the_next_one_is_heard() -> None:
    engines = Engines()
    async with socket_with(engines, max_audio_bytes=20_000) as client:
        for _ in range(3):
            await client.send_bytes(bytes(8_000))
        refused = await client.receive_json()
        await client.send_bytes(bytes(8_000))  # the rest of the dropped utterance
        await client.send_json({"type": "audio_end"})
        await client.send_bytes(tone(0.3))
        await client.send_json({"type": "audio_end", "speak": False})
        transcript = await client.receive_json()
        await client.events_until("answer")

    assert (refused["type"], refused["status"]) == ("error", 413)
    assert transcript["type"] == "transcript"
    assert len(engines.hearing.heard) == 1


@pytest.mark.parametrize(
    ("sent", "status"),
    [
        ({"type": "audio_end"}, 422),
        ({"type": "audio", "data": "not base64!"}, 400),
        ({"type": "video"}, 400),
        ({"type": "text"}, 400),
        ({"type": "text", "text": "  "}, 422),
        ("{not json", 400),
    ],
    ids=["no audio", "bad base64", "unknown type", "no text", "blank text", "malformed JSON"],
)
async def test_bad_input_is_an_error_event_and_the_socket_goes_on(
    api: Api, engines: Engines, token: str, sent: dict[str, str] | str, status: int
) -> None:
    async with signed_in(api, token) as client:
        await ready(client)
        if isinstance(sent, str):
            await client.send_text(sent)
        else:
            await client.send_json(sent)
        error = await client.receive_json()
        await client.send_json({"type": "text", "text": "hola"})
        answered = await client.events_until("answer")

    assert (error["type"], error["status"]) == ("error", status)
    assert error["detail"]
    assert answered[-1]["type"] == "answer"
    assert len(engines.model.requests) == 1


async def test_what_is_not_audio_is_an_error_and_no_engine_hears_it(
    api: Api, engines: Engines, token: str
) -> None:
    async with signed_in(api, token) as client:
        await ready(client)
        await client.send_bytes(b"plain text, not a sound")
        await client.send_json({"type": "audio_end"})
        error = await client.receive_json()

    assert (error["type"], error["status"]) == ("error", 422)
    assert engines.hearing.heard == []


async def test_an_engine_that_is_down_is_an_error_event_and_the_socket_goes_on(
    api: Api, engines: Engines, token: str
) -> None:
    engines.hearing.fail_with(ExternalServiceUnavailable("speech to text", "down", 5))
    async with signed_in(api, token) as client:
        await ready(client)
        await client.send_bytes(tone(0.2))
        await client.send_json({"type": "audio_end"})
        error = await client.receive_json()
        engines.hearing.fail_with(None)
        await client.send_bytes(tone(0.2))
        await client.send_json({"type": "audio_end", "speak": False})
        transcript = await client.receive_json()

    assert error == {
        "type": "error",
        "status": 503,
        "detail": "speech to text: down",
        "retry_after": 5,
    }
    assert transcript["text"] == "quiero una cita"


async def test_an_answer_whose_voice_fails_is_kept_and_the_failure_said(
    api: Api, engines: Engines, token: str
) -> None:
    engines.speaking.fail_with(ExternalServiceUnavailable("text to speech", "down"))
    engines.model.answer("Primera respuesta.")
    engines.model.answer("Segunda respuesta.")
    async with signed_in(api, token) as client:
        await ready(client)
        await client.send_json({"type": "text", "text": "hola", "speak": True})
        events = await client.events_until("error")
        await client.send_json({"type": "text", "text": "¿sigues?"})
        await client.events_until("answer")

    assert [e["type"] for e in events if e["type"] != "draft"] == ["answer", "error"]
    assert events[-1]["status"] == 503
    assert [said.text for said in engines.model.requests[-1].input] == [
        "hola",
        "Primera respuesta.",
        "¿sigues?",
    ]


async def test_turns_over_the_allowance_per_minute_are_refused() -> None:
    engines = Engines()
    async with socket_with(engines, requests_per_minute=2) as client:
        for _ in range(2):
            await client.send_json({"type": "text", "text": "hola"})
            await client.events_until("answer")
        await client.send_json({"type": "text", "text": "hola"})
        refused = await client.receive_json()

    assert (refused["type"], refused["status"]) == ("error", 429)
    assert refused["retry_after"] > 0
    assert len(engines.model.requests) == 2
