"""The HTTP app with in-memory fakes put in through the container."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.api import Api, open_api, settings_for_tests


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    async with open_api(
        settings_for_tests("sqlite+aiosqlite:///:memory:"), in_memory=True
    ) as opened:
        yield opened
