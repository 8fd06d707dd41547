"""The real HTTP app on every database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.api import Api, open_api, settings_for_tests
from tests.conftest import Engines
from tests.databases import BACKENDS, empty_tables


@pytest.fixture(params=BACKENDS)
async def api(request: pytest.FixtureRequest, engines: Engines) -> AsyncIterator[Api]:
    engine = await engines.get(request.param)
    url = engine.url.render_as_string(hide_password=False)
    async with open_api(settings_for_tests(url)) as opened:
        yield opened
    await empty_tables(engine)
