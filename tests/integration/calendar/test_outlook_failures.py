"""How Outlook fails: Graph's throttling waited out through the resilience runner, the
app's token kept and renewed, and an unknown mailbox, a missing consent or refused
credentials told with Graph's or Entra ID's code, nothing booked."""

from __future__ import annotations

import httpx
import pytest

from adapters.calendar.graph_token import ClientCredentialsToken
from adapters.calendar.outlook import OutlookCalendar
from talia_core.shared.errors import ExternalServiceUnavailable
from tests.contracts.scheduling.calendar_contract import a_booking, at
from tests.fakeserver import refusing_port
from tests.integration.calendar.graph_server import (
    BACK_OFFICE,
    CLIENT_ID,
    FRONT_DESK,
    SECRET,
    TENANT,
    FakeOutlookGraph,
)
from tests.integration.calendar.outlook_harness import (
    MAILBOXES,
    MAIN,
    SALES,
    Clock,
    outlook,
    through_runner,
    token_for,
)

# ------------------------------------------------------------------------------ throttling


async def test_throttling_is_waited_out_as_graph_asks_through_the_runner(
    calendar: OutlookCalendar, graph: FakeOutlookGraph
) -> None:
    slept: list[float] = []
    graph.throttle(2, retry_after=7)

    busy = await through_runner(calendar, slept).busy(MAIN, at(0), at(24))

    assert list(busy) == []
    assert slept == [7, 7]
    assert len(graph.graph_requests()) == 3


async def test_a_throttled_booking_is_retried_into_one_event(
    calendar: OutlookCalendar, graph: FakeOutlookGraph
) -> None:
    slept: list[float] = []
    resilient_calendar = through_runner(calendar, slept)
    graph.throttle(1, retry_after=2)

    entry = await resilient_calendar.book(a_booking(MAIN, at(13)))

    assert [e.id for e in graph.events(FRONT_DESK)] == [entry.event_id]
    assert slept == [2]


async def test_throttling_that_outlasts_the_retries_is_unavailable_with_the_wait(
    calendar: OutlookCalendar, graph: FakeOutlookGraph
) -> None:
    graph.throttle(3, retry_after=4)

    with pytest.raises(ExternalServiceUnavailable) as raised:
        await through_runner(calendar, []).busy(MAIN, at(0), at(24))

    assert raised.value.retry_after_seconds == 4
    assert "ApplicationThrottled" in raised.value.detail


# ------------------------------------------------------------------------------ the token


async def test_one_token_serves_every_call_until_it_is_about_to_expire(
    client: httpx.AsyncClient, graph: FakeOutlookGraph
) -> None:
    clock = Clock()
    calendar = outlook(client, graph, token_for(client, graph, clock))

    await calendar.busy(MAIN, at(0), at(24))
    await calendar.busy(SALES, at(0), at(24))
    clock.now += 3599 - 301
    await calendar.busy(MAIN, at(0), at(24))
    clock.now += 2
    await calendar.busy(MAIN, at(0), at(24))

    assert len(graph.tokens) == 2
    [request] = [r for r in graph.requests if r.path.endswith("/token")][:1]
    assert request.path == f"/{TENANT}/oauth2/v2.0/token"
    assert request.form() == {
        "client_id": CLIENT_ID,
        "client_secret": SECRET,
        "scope": "https://graph.microsoft.com/.default",
        "grant_type": "client_credentials",
    }


async def test_a_token_graph_refuses_is_replaced_on_the_next_attempt(
    calendar: OutlookCalendar, graph: FakeOutlookGraph
) -> None:
    await calendar.busy(MAIN, at(0), at(24))
    graph.revoke_tokens()

    assert list(await through_runner(calendar, []).busy(MAIN, at(0), at(24))) == []
    assert len(graph.tokens) == 2


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"client_secret": "wrong"}, "invalid_client: AADSTS7000215"),
        ({"client_id": "00000000-0000-0000-0000-000000000000"}, "AADSTS700016"),
        ({"tenant_id": "contoso.onmicrosoft.com"}, "AADSTS90002"),
    ],
    ids=["wrong-secret", "unknown-app", "unknown-tenant"],
)
async def test_refused_app_credentials_are_unavailable_with_entra_s_code(
    client: httpx.AsyncClient, graph: FakeOutlookGraph, overrides: dict[str, str], code: str
) -> None:
    calendar = outlook(client, graph, token_for(client, graph, **overrides))

    with pytest.raises(ExternalServiceUnavailable) as raised:
        await calendar.book(a_booking(MAIN, at(10)))

    assert code in raised.value.detail
    assert graph.events(FRONT_DESK) == []


async def test_without_credentials_outlook_is_unavailable_without_calling_anyone(
    client: httpx.AsyncClient, graph: FakeOutlookGraph
) -> None:
    calendar = outlook(client, graph, token_for(client, graph, client_secret=""))

    with pytest.raises(ExternalServiceUnavailable, match="not configured"):
        await calendar.busy(MAIN, at(0), at(24))

    assert graph.requests == []


# ------------------------------------------------------------------------------ configuration


@pytest.mark.parametrize(
    ("calendar_id", "code"),
    [("nobody", "ErrorInvalidUser"), ("on-premises", "MailboxNotEnabledForRESTAPI")],
)
async def test_a_mailbox_graph_cannot_use_is_unavailable_with_graphs_code(
    calendar: OutlookCalendar, graph: FakeOutlookGraph, calendar_id: str, code: str
) -> None:
    graph.without_mailbox.add("onprem@contoso.com")

    with pytest.raises(ExternalServiceUnavailable) as raised:
        await calendar.book(a_booking(calendar_id, at(10)))

    assert code in raised.value.detail
    assert MAILBOXES[calendar_id] in raised.value.detail
    assert all(graph.events(m) == [] for m in (FRONT_DESK, BACK_OFFICE))


async def test_a_calendar_without_a_mailbox_is_unavailable_without_calling_graph(
    calendar: OutlookCalendar, graph: FakeOutlookGraph
) -> None:
    with pytest.raises(ExternalServiceUnavailable, match="no mailbox is configured"):
        await calendar.busy("back-office", at(0), at(24))

    assert graph.requests == []


async def test_a_missing_consent_is_unavailable_with_graphs_code_and_makes_nothing(
    calendar: OutlookCalendar, graph: FakeOutlookGraph
) -> None:
    graph.consented = False

    with pytest.raises(ExternalServiceUnavailable) as raised:
        await calendar.book(a_booking(MAIN, at(10)))

    assert "ErrorAccessDenied" in raised.value.detail
    assert "Calendars.ReadWrite" in raised.value.detail
    assert graph.events(FRONT_DESK) == []


async def test_graph_not_answering_is_unavailable(client: httpx.AsyncClient) -> None:
    with refusing_port() as port:
        calendar = OutlookCalendar(
            client,
            ClientCredentialsToken(
                client,
                tenant_id=TENANT,
                client_id=CLIENT_ID,
                client_secret=SECRET,
                authority=f"http://127.0.0.1:{port}",
            ),
            mailboxes=MAILBOXES,
            graph_url=f"http://127.0.0.1:{port}/v1.0",
        )
        with pytest.raises(ExternalServiceUnavailable, match="unreachable"):
            await calendar.busy(MAIN, at(0), at(24))
