"""What the integration suites share: the HTTP client adapters use to reach local servers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    """The pooled client an outbound adapter is given, as the container gives it one."""
    async with httpx.AsyncClient(timeout=5.0) as client:
        yield client
