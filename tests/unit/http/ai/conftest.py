"""The app of the AI routes' tests, with its fakes, and a signed-in customer."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from talia_core.identity.model import Role
from tests.api import Api
from tests.unit.http.ai.fakes import Engines, ai_api


@pytest.fixture
def engines() -> Engines:
    return Engines()


@pytest.fixture
async def api(engines: Engines) -> AsyncIterator[Api]:
    async with ai_api(engines, auth_seconds=0.2) as opened:
        yield opened


@pytest.fixture
async def customer(api: Api) -> dict[str, str]:
    _, headers = await api.user(Role.CUSTOMER)
    return headers
