"""A language model provider that keeps failing, through the real app on every database:
the OpenAI model as the container wires it (behind its runner) against a local Responses
server answering 503, under a policy whose breaker opens after two failures."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fakeserver import Reply
from tests.integration.http.assistants import World, open_world
from tests.integration.language.responses_server import API_KEY, FakeResponses, openai_error

FAILURES_TO_OPEN = 2
POLICY = {
    "retry_attempts": FAILURES_TO_OPEN,
    "retry_base_delay_seconds": 0.01,
    "retry_max_delay_seconds": 0.01,
    "breaker_failure_threshold": FAILURES_TO_OPEN,
}


@pytest.fixture
async def world(
    database_url: str, tmp_path: Path, responses: FakeResponses
) -> AsyncIterator[World]:
    async with open_world(
        database_url,
        tmp_path,
        wired=["openai"],
        openai={"api_key": API_KEY, "base_url": f"{responses.base_url}/v1"},
        resilience=POLICY,
    ) as opened:
        yield opened


async def test_a_failing_provider_opens_its_breaker_and_the_fallback_answers_meanwhile(
    world: World, responses: FakeResponses
) -> None:
    await world.assistant("front-desk", channels=["whatsapp"], fallback={"to": "offline"})
    overloaded = openai_error("The server is overloaded.", kind="server_error", code=None)
    for _ in range(FAILURES_TO_OPEN):
        responses.answer_next(Reply(503, overloaded))
    world.offline.answer("Respondo sin conexión.")
    world.offline.answer("Sigo sin conexión.")

    await world.customer_writes("hola", "wamid.outage.1")
    await world.customer_writes("¿siguen ahí?", "wamid.outage.2")
    ready = await world.api.client.get("/health/ready")

    assert [m.text for m in world.sent.sent] == ["Respondo sin conexión.", "Sigo sin conexión."]
    # The first turn's attempts opened the breaker; the second turn spared the provider.
    assert [body["model"] for body in responses.bodies()] == ["gpt-4.1-mini"] * FAILURES_TO_OPEN
    assert ready.status_code == 200, ready.text
    breakers = {b["name"]: b for b in ready.json()["circuit_breakers"]}
    openai = breakers["openai"]
    assert (openai["state"], openai["consecutive_failures"]) == ("open", FAILURES_TO_OPEN)
    assert openai["retry_after_seconds"] > 0
    assert breakers["huggingface"]["state"] == "closed"
