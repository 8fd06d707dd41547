"""The real HTTP app on every database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.api import Api, open_api, settings_for_tests
from tests.conftest import Engines
from tests.databases import BACKENDS, empty_tables
from tests.integration.http.assistants import World, open_world


@pytest.fixture(params=BACKENDS)
async def database_url(request: pytest.FixtureRequest, engines: Engines) -> AsyncIterator[str]:
    """A migrated database on each backend, emptied after the test."""
    engine = await engines.get(request.param)
    yield engine.url.render_as_string(hide_password=False)
    await empty_tables(engine)


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    async with open_api(settings_for_tests(database_url)) as opened:
        yield opened


@pytest.fixture
async def world(database_url: str, tmp_path: Path) -> AsyncIterator[World]:
    """The app answered by assistants on scripted models (``assistants.open_world``)."""
    async with open_world(database_url, tmp_path) as opened:
        yield opened
