"""The Outlook calendar (Microsoft Graph) from the settings, behind its resilience runner."""

from __future__ import annotations

import httpx

from adapters.calendar.graph_token import ClientCredentialsToken
from adapters.calendar.graph_wire import SERVICE
from adapters.calendar.outlook import OutlookCalendar
from adapters.resilience import BreakerBoard, resilient
from entrypoints.settings import Settings
from entrypoints.wiring.policies import runner
from talia_core.scheduling.ports import Calendar


def outlook_calendar(
    settings: Settings, client: httpx.AsyncClient, board: BreakerBoard
) -> Calendar:
    """Every call is retried by the runner, a booking included: it carries its
    ``transactionId`` and looks its event up first, so a repeated attempt makes no second
    event. Graph's ``Retry-After`` sets the wait. On Outlook the calendar id is the mailbox
    ``TALIA_OUTLOOK__MAILBOX``, the only one the calendar touches (the app's permission
    reaches every mailbox of the tenant)."""
    outlook = settings.outlook
    token = ClientCredentialsToken(
        client,
        tenant_id=outlook.tenant_id,
        client_id=outlook.client_id,
        client_secret=outlook.client_secret.get_secret_value(),
        authority=outlook.authority,
    )
    calendar = OutlookCalendar(
        client,
        token,
        mailboxes={outlook.mailbox: outlook.mailbox},
        graph_url=outlook.graph_url,
        teams_link=outlook.teams_link,
    )
    return resilient(calendar, runner(SERVICE, board, settings))
