"""What the integration suites share: the HTTP client adapters use to reach local servers,
and the language model providers' local servers, each started for one test with the
credentials it takes (``responses_server.API_KEY``, ``chat_server.TOKEN``)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.integration.language.chat_server import TOKEN, FakeChatCompletions
from tests.integration.language.responses_server import API_KEY, FakeResponses


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    """The pooled client an outbound adapter is given, as the container gives it one."""
    async with httpx.AsyncClient(timeout=5.0) as client:
        yield client


@pytest.fixture
async def responses() -> AsyncIterator[FakeResponses]:
    server = FakeResponses(token=API_KEY)
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def chat() -> AsyncIterator[FakeChatCompletions]:
    server = FakeChatCompletions(token=TOKEN)
    await server.start()
    yield server
    await server.close()
