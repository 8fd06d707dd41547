"""Microsoft Graph's wire format for calendars: ``dateTimeTimeZone`` values and what an
error answer (``{"error": {"code", "message"}}``) means.

Throttling (429, with ``Retry-After``) and 5xx are ``ExternalServiceUnavailable`` with the
hint. So are an unknown mailbox (``ErrorInvalidUser``, ``MailboxNotEnabledForRESTAPI``,
``ResourceNotFound``) and a missing consent (``ErrorAccessDenied``,
``Authorization_RequestDenied``): an operator fixes the configuration and the calls then go
through; they are logged as errors and carry Graph's code. Any other refusal is about the
request itself: ``RuleViolated`` naming Graph's code.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx

from adapters.channels.wire import json_object, retry_after
from talia_core.shared.errors import ExternalServiceUnavailable, RuleViolated, TaliaError

logger = logging.getLogger("talia.calendar")

SERVICE = "outlook"
GRAPH_URL = "https://graph.microsoft.com/v1.0"
# Every time Graph answers is in UTC, like every time Talia sends.
PREFER_UTC = {"Prefer": 'outlook.timezone="UTC"'}

# Graph's error text is kept shortened on purpose: it ends up in logs and problem details.
MAX_DETAIL = 300
_MAILBOX_UNKNOWN = frozenset(
    {"ErrorInvalidUser", "MailboxNotEnabledForRESTAPI", "ResourceNotFound"}
)
_CONSENT_MISSING = frozenset({"ErrorAccessDenied", "Authorization_RequestDenied", "AccessDenied"})
_UTC_NAMES = frozenset({"UTC", "Etc/UTC", "Coordinated Universal Time"})


def shortened(detail: str) -> str:
    return detail if len(detail) <= MAX_DETAIL else detail[: MAX_DETAIL - 1] + "…"


def graph_time(value: datetime) -> dict[str, str]:
    """An instant as a ``dateTimeTimeZone`` in UTC (``value`` carries its zone)."""
    return {"dateTime": value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"}


def read_graph_time(value: object, what: str) -> datetime:
    """A ``dateTimeTimeZone`` (``2030-03-04T15:00:00.0000000``, ``UTC``) as an aware UTC
    instant; one Talia cannot read means Graph did not answer as documented."""
    if isinstance(value, dict):
        text, zone = value.get("dateTime"), value.get("timeZone", "UTC")
        if isinstance(text, str) and isinstance(zone, str):
            try:
                moment = datetime.fromisoformat(text)
                tz = UTC if zone in _UTC_NAMES else ZoneInfo(zone)
            except (ValueError, ZoneInfoNotFoundError):
                pass
            else:
                if moment.tzinfo is None:
                    moment = moment.replace(tzinfo=tz)
                return moment.astimezone(UTC)
    raise ExternalServiceUnavailable(SERVICE, f"Graph answered an unreadable {what}")


def error_code(response: httpx.Response) -> str:
    error = _error(response)
    code = error.get("code") if error else None
    return code if isinstance(code, str) else ""


def failure(response: httpx.Response, action: str, mailbox: str) -> TaliaError:
    """What a non-2xx answer of Graph means; on a 401 the caller also drops its token."""
    status = response.status_code
    error = _error(response) or {}
    code = error_code(response)
    message = error.get("message") if isinstance(error.get("message"), str) else ""
    named = code or f"HTTP {status}"
    described = shortened(f"{named}: {message}" if message else named)
    if status == 429 or status >= 500:
        return ExternalServiceUnavailable(
            SERVICE, f"{action} answered HTTP {status} ({described})", retry_after(response)
        )
    if status == 401:
        return ExternalServiceUnavailable(SERVICE, f"Graph refused the access token ({described})")
    if code in _MAILBOX_UNKNOWN:
        logger.error("Graph does not know the mailbox %s (%s)", mailbox, described)
        return ExternalServiceUnavailable(
            SERVICE,
            f"the mailbox {mailbox} cannot be used ({described}): check TALIA_OUTLOOK__MAILBOX",
        )
    if status == 403 or code in _CONSENT_MISSING:
        logger.error("Graph refused access to the mailbox %s (%s)", mailbox, described)
        return ExternalServiceUnavailable(
            SERVICE,
            f"access to the mailbox {mailbox} was refused ({described}): the app needs the "
            "Calendars.ReadWrite application permission with admin consent",
        )
    return RuleViolated(
        f"Outlook refused to {action} ({described})", {"calendar": code or str(status)}
    )


def unreachable(action: str, cause: httpx.RequestError) -> ExternalServiceUnavailable:
    if isinstance(cause, httpx.TimeoutException):
        return ExternalServiceUnavailable(SERVICE, f"{action} timed out")
    return ExternalServiceUnavailable(SERVICE, f"{action} failed: {type(cause).__name__}")


def _error(response: httpx.Response) -> dict[str, Any] | None:
    body = json_object(response)
    error = body.get("error") if body is not None else None
    return error if isinstance(error, dict) else None
