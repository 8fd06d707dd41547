"""The local Microsoft Graph each Outlook test starts, with its tenant, app and mailboxes, and
the Outlook calendar pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from adapters.calendar.outlook import OutlookCalendar
from tests.integration.calendar.graph_server import (
    BACK_OFFICE,
    CLIENT_ID,
    FRONT_DESK,
    SECRET,
    TENANT,
    FakeOutlookGraph,
)
from tests.integration.calendar.outlook_harness import outlook


@pytest.fixture
async def graph() -> AsyncIterator[FakeOutlookGraph]:
    server = FakeOutlookGraph(
        tenant_id=TENANT,
        client_id=CLIENT_ID,
        client_secret=SECRET,
        mailboxes=(FRONT_DESK, BACK_OFFICE),
    )
    await server.start()
    yield server
    await server.close()


@pytest.fixture
def calendar(client: httpx.AsyncClient, graph: FakeOutlookGraph) -> OutlookCalendar:
    return outlook(client, graph)
