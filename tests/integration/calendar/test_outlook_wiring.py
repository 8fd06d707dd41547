"""The Outlook calendar as the settings build it: behind its own resilience runner, on the
mailbox of ``TALIA_OUTLOOK__MAILBOX`` only, and refused at start when half configured."""

from __future__ import annotations

import httpx
import pytest

from adapters.resilience import BreakerBoard
from entrypoints.settings import SettingsError, load_settings
from entrypoints.wiring.outlook import outlook_calendar
from talia_core.shared.errors import ExternalServiceUnavailable
from tests.contracts.scheduling.calendar_contract import a_booking, at
from tests.integration.calendar.graph_server import (
    BACK_OFFICE,
    CLIENT_ID,
    FRONT_DESK,
    SECRET,
    TENANT,
    FakeOutlookGraph,
)


def outlook_settings(graph: FakeOutlookGraph, **more: object) -> dict[str, object]:
    return {
        "calendar": {"provider": "outlook"},
        "outlook": {
            "tenant_id": TENANT,
            "client_id": CLIENT_ID,
            "client_secret": SECRET,
            "mailbox": FRONT_DESK,
            "authority": graph.base_url,
            "graph_url": f"{graph.base_url}/v1.0",
            **more,
        },
    }


async def test_the_configured_mailbox_is_booked_behind_its_runner(
    client: httpx.AsyncClient, graph: FakeOutlookGraph
) -> None:
    board = BreakerBoard()
    calendar = outlook_calendar(load_settings(**outlook_settings(graph)), client, board)
    graph.throttle(1, retry_after=1)

    entry = await calendar.book(a_booking(FRONT_DESK, at(10)))

    assert [e.id for e in graph.events(FRONT_DESK)] == [entry.event_id]
    assert list(await calendar.busy(FRONT_DESK, at(0), at(24)))
    assert "outlook" in board.snapshots()


async def test_another_mailbox_of_the_tenant_is_not_touched(
    client: httpx.AsyncClient, graph: FakeOutlookGraph
) -> None:
    calendar = outlook_calendar(load_settings(**outlook_settings(graph)), client, BreakerBoard())

    with pytest.raises(ExternalServiceUnavailable, match="no mailbox is configured"):
        await calendar.book(a_booking(BACK_OFFICE, at(10)))

    assert graph.requests == []


async def test_a_teams_link_is_a_setting(
    client: httpx.AsyncClient, graph: FakeOutlookGraph
) -> None:
    settings = load_settings(**outlook_settings(graph, teams_link=True))

    await outlook_calendar(settings, client, BreakerBoard()).book(a_booking(FRONT_DESK, at(10)))

    [event] = graph.events(FRONT_DESK)
    assert event.body["onlineMeetingProvider"] == "teamsForBusiness"


def test_outlook_without_its_credentials_stops_start_up_naming_them() -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings(calendar={"provider": "outlook"}, outlook={"tenant_id": TENANT})

    assert "TALIA_OUTLOOK__CLIENT_ID" in str(raised.value)
    assert "TALIA_OUTLOOK__CLIENT_SECRET" in str(raised.value)
    assert "TALIA_OUTLOOK__MAILBOX" in str(raised.value)
    assert "TALIA_OUTLOOK__TENANT_ID" not in str(raised.value)


def test_a_mailbox_is_an_address() -> None:
    with pytest.raises(SettingsError, match="TALIA_OUTLOOK__MAILBOX"):
        load_settings(outlook={"mailbox": "citas"})
