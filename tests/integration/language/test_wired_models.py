"""The language models as the container wires them (behind their runners, on the shared
client) against the providers' local servers: a stream opened in the runner's task is read
in the caller's."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from entrypoints.container import Container, build_container, close_resources, open_resources
from talia_core.assistants.language import ModelReply, ModelRequest, Role, Said, TextDelta
from tests.api import settings_for_tests
from tests.integration.language.chat_server import TOKEN, FakeChatCompletions
from tests.integration.language.responses_server import API_KEY, FakeResponses


@pytest.fixture
async def container(
    responses: FakeResponses, chat: FakeChatCompletions
) -> AsyncIterator[Container]:
    settings = settings_for_tests(
        "sqlite+aiosqlite:///:memory:",
        openai={"api_key": API_KEY, "base_url": f"{responses.base_url}/v1"},
        huggingface={"token": TOKEN, "base_url": chat.base_url},
    )
    container = build_container(settings)
    await open_resources(container)
    yield container
    await close_resources(container)


@pytest.mark.parametrize(
    ("provider", "model"), [("openai", "gpt-4.1-mini"), ("huggingface", "Qwen/Qwen3-8B")]
)
async def test_each_wired_model_streams_through_its_runner(
    container: Container,
    responses: FakeResponses,
    chat: FakeChatCompletions,
    provider: str,
    model: str,
) -> None:
    server = responses if provider == "openai" else chat
    server.will_answer("Hola, ¿en qué te ayudo?")
    language_model = container.gateways.language_models()[provider]
    request = ModelRequest(model, (Said(Role.USER, "Hola"),), instructions="Sé breve.")

    events = [event async for event in language_model.stream(request)]
    again = await language_model.complete(request)

    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Hola, ¿en qué te ayudo?"
    assert isinstance(events[-1], ModelReply)
    assert again.text
    assert len(server.requests) == 2
