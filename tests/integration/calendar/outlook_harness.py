"""What the Outlook tests share: the calendar ids and their mailboxes, and the calendar, its
token and its resilience runner built against the local Graph."""

from __future__ import annotations

import httpx

from adapters.calendar.graph_token import ClientCredentialsToken
from adapters.calendar.outlook import OutlookCalendar
from adapters.resilience import HyxResilienceRunner, resilient
from talia_core.resilience.model import (
    BreakerPolicy,
    BulkheadPolicy,
    ResiliencePolicy,
    RetryPolicy,
)
from talia_core.scheduling.ports import Calendar
from tests.integration.calendar.graph_server import (
    BACK_OFFICE,
    CLIENT_ID,
    FRONT_DESK,
    SECRET,
    TENANT,
    FakeOutlookGraph,
)

MAIN, SALES = "main", "sales"  # the calendar ids, as the scheduling context names them
MAILBOXES = {
    MAIN: FRONT_DESK,
    SALES: BACK_OFFICE,
    "nobody": "nadie@contoso.com",  # no such user in the tenant
    "on-premises": "onprem@contoso.com",  # a user without an Exchange Online mailbox
}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def token_for(
    client: httpx.AsyncClient, graph: FakeOutlookGraph, clock: Clock | None = None, **overrides: str
) -> ClientCredentialsToken:
    settings = {"tenant_id": TENANT, "client_id": CLIENT_ID, "client_secret": SECRET} | overrides
    if clock is None:
        return ClientCredentialsToken(client, authority=graph.base_url, **settings)
    return ClientCredentialsToken(client, authority=graph.base_url, monotonic=clock, **settings)


def outlook(
    client: httpx.AsyncClient,
    graph: FakeOutlookGraph,
    token: ClientCredentialsToken | None = None,
    *,
    teams_link: bool = False,
) -> OutlookCalendar:
    return OutlookCalendar(
        client,
        token or token_for(client, graph),
        mailboxes=MAILBOXES,
        graph_url=f"{graph.base_url}/v1.0",
        teams_link=teams_link,
    )


def through_runner(calendar: OutlookCalendar, slept: list[float]) -> Calendar:
    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    policy = ResiliencePolicy(
        timeout_seconds=5.0,
        retry=RetryPolicy(
            max_attempts=3,
            base_delay_seconds=0.2,
            max_delay_seconds=5.0,
            multiplier=2.0,
            max_retry_after_seconds=30.0,
        ),
        breaker=BreakerPolicy(failure_threshold=5, open_seconds=30.0, half_open_probes=1),
        bulkhead=BulkheadPolicy(max_concurrent=8, max_wait_seconds=2.0),
    )
    runner = HyxResilienceRunner("outlook", policy, sleep=sleep, random=lambda: 0.0)
    return resilient(calendar, runner)
