"""The providers' local servers, each started for one test with the credentials it takes
(``responses_server.API_KEY``, ``chat_server.TOKEN``)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.integration.language.chat_server import TOKEN, FakeChatCompletions
from tests.integration.language.responses_server import API_KEY, FakeResponses


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
