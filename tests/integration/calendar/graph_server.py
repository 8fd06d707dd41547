"""A local HTTP server speaking Microsoft Entra ID's token endpoint and Microsoft Graph's
calendar wire format.

A ``tests.fakeserver.LocalServer`` on 127.0.0.1, which is both the authority and the Graph
root (``{base_url}/v1.0``). As Microsoft documents them:

- ``POST /{tenant}/oauth2/v2.0/token`` (form ``client_id``, ``client_secret``, ``scope``,
  ``grant_type=client_credentials``) -> ``{"token_type": "Bearer", "expires_in",
  "ext_expires_in", "access_token"}``; a wrong secret is 401 ``invalid_client``
  (AADSTS7000215), an unknown app 400 ``unauthorized_client`` (AADSTS700016), an unknown
  tenant 400 ``invalid_request`` (AADSTS90002), another scope 400 ``invalid_scope``;
- every Graph call needs a live bearer token (else 401 ``InvalidAuthenticationToken``), the
  app's consent (else 403 ``ErrorAccessDenied``) and a known mailbox (else 404
  ``ErrorInvalidUser``, or ``MailboxNotEnabledForRESTAPI`` for a user without one);
- ``POST /v1.0/users/{mailbox}/calendar/getSchedule`` -> ``{"value": [scheduleInformation]}``
  computed from the stored events (``scheduleItems`` with ``status``, ``start``, ``end``;
  ``availabilityView``), times in the ``Prefer: outlook.timezone`` zone (UTC only here); a
  schedule it does not know gets a per-schedule ``error`` (``responseCode`` 5009);
- ``POST /v1.0/users/{mailbox}/events`` -> 201 with the event; a ``transactionId`` the mailbox
  already holds gets the event made with it back, nothing new;
- ``GET /v1.0/users/{mailbox}/events?$filter=singleValueExtendedProperties/Any(ep: ep/id eq
  '…' and ep/value eq '…')`` -> ``{"value": [events]}``;
- ``GET /v1.0/users/{mailbox}/calendarView?startDateTime=…&endDateTime=…`` -> the events
  overlapping the window, each with its ``createdDateTime``;
- ``DELETE /v1.0/users/{mailbox}/events/{id}`` -> 204, or 404 ``ErrorItemNotFound``.

``throttle`` answers the next Graph calls 429 with ``Retry-After`` (Exchange's
``ApplicationThrottled``); ``after_creating_answer`` makes the next event and loses its
answer; ``answer_next`` answers the next request otherwise.
"""

from __future__ import annotations

import base64
import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, unquote

import attrs

from tests.fakeserver import LocalServer, Recorded, Reply

GRAPH_SCOPE = "https://graph.microsoft.com/.default"
# The app registration it knows, and the mailboxes of its tenant.
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT_ID = "3c2a1b0d-9e8f-4a7b-8c6d-5e4f3a2b1c0d"
SECRET = "Qx8~secret.of-the-app~registration"
FRONT_DESK = "citas@contoso.com"
BACK_OFFICE = "ventas@contoso.com"
_FILTER = re.compile(
    r"singleValueExtendedProperties/Any\(ep: ep/id eq '(?P<id>(?:[^']|'')*)' "
    r"and ep/value eq '(?P<value>(?:[^']|'')*)'\)"
)
_USER = re.compile(r"^/v1\.0/users/(?P<mailbox>[^/]+)(?P<rest>/.*)$")


def graph_error(code: str, message: str) -> dict[str, Any]:
    """An error body as Graph sends it."""
    return {
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": "2030-03-04T10:00:00",
                "request-id": "6a1d3f2e-5c4b-4a39-8e27-1f0d9c8b7a65",
                "client-request-id": "6a1d3f2e-5c4b-4a39-8e27-1f0d9c8b7a65",
            },
        }
    }


def entra_error(status: int, error: str, code: int, description: str) -> Reply:
    body = {
        "error": error,
        "error_description": f"AADSTS{code}: {description}\r\nTrace ID: 0f1e2d3c\r\n",
        "error_codes": [code],
        "timestamp": "2030-03-04 10:00:00Z",
        "trace_id": "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b",
        "correlation_id": "1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d",
        "error_uri": f"https://login.microsoftonline.com/error?code={code}",
    }
    return Reply(status, body)


@attrs.define
class Event:
    id: str
    subject: str
    start: datetime
    end: datetime
    show_as: str = "busy"
    transaction_id: str | None = None
    properties: dict[str, str] = attrs.field(factory=dict)
    body: dict[str, Any] = attrs.field(factory=dict)  # what the create request carried
    created: datetime = attrs.field(factory=lambda: datetime.now(UTC))


def _graph_time(moment: datetime) -> dict[str, str]:
    return {"dateTime": moment.strftime("%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": "UTC"}


def _read_time(value: Any) -> datetime:
    if not isinstance(value, dict) or value.get("timeZone") != "UTC":
        raise ValueError("only dateTimeTimeZone values in UTC are understood here")
    return datetime.fromisoformat(value["dateTime"]).replace(tzinfo=UTC)


class FakeOutlookGraph(LocalServer):
    content_type = "application/json"

    def __init__(
        self,
        *,
        tenant_id: str,
        client_id: str,
        client_secret: str,
        mailboxes: tuple[str, ...],
        token_lifetime: int = 3599,
    ) -> None:
        super().__init__()
        self._tenant = tenant_id
        self._client_id = client_id
        self._secret = client_secret
        self._lifetime = token_lifetime
        self.mailboxes: dict[str, dict[str, Event]] = {m.lower(): {} for m in mailboxes}
        self.without_mailbox: set[str] = set()  # users with no Exchange Online mailbox
        self.consented = True
        self.tokens: list[str] = []  # every token issued, the live ones in ``_live``
        self._live: set[str] = set()
        self._throttled: list[int] = []
        self._after_creating: list[Reply] = []

    # ---------------------------------------------------------------- what tests arrange

    def add_event(
        self, mailbox: str, start: datetime, end: datetime, *, show_as: str = "busy"
    ) -> Event:
        """An event the business entered in Outlook by hand."""
        event = Event(_event_id(), "Blocked", start.astimezone(UTC), end.astimezone(UTC), show_as)
        self.mailboxes[mailbox.lower()][event.id] = event
        return event

    def events(self, mailbox: str) -> list[Event]:
        return list(self.mailboxes[mailbox.lower()].values())

    def revoke_tokens(self) -> None:
        self._live.clear()

    def throttle(self, times: int, *, retry_after: int) -> None:
        """The next ``times`` Graph calls are throttled."""
        self._throttled += [retry_after] * times

    def after_creating_answer(self, reply: Reply) -> None:
        """The next event is made, and its create answered with ``reply`` (silence, a 504)."""
        self._after_creating.append(reply)

    def graph_requests(self) -> list[Recorded]:
        return [r for r in self.requests if r.path.startswith("/v1.0/")]

    # ---------------------------------------------------------------- the wire format

    def answer(self, request: Recorded) -> Reply:
        if request.path.endswith("/oauth2/v2.0/token") and request.method == "POST":
            return self._token(request)
        if not request.path.startswith("/v1.0/"):
            return Reply(404, graph_error("BadRequest", "Resource not found for the segment."))
        authorization = request.headers.get("authorization", "")
        if not authorization.startswith("Bearer ") or authorization[7:] not in self._live:
            return Reply(
                401,
                graph_error(
                    "InvalidAuthenticationToken", "Access token has expired or is not yet valid."
                ),
            )
        if self._throttled:
            return Reply(
                429,
                graph_error(
                    "ApplicationThrottled", "Application is over its MailboxConcurrency limit."
                ),
                {"Retry-After": str(self._throttled.pop(0))},
            )
        match = _USER.match(request.path)
        if match is None:
            return Reply(400, graph_error("BadRequest", "Unsupported request."))
        mailbox = unquote(match["mailbox"]).lower()
        if mailbox in self.without_mailbox:
            return Reply(
                404,
                graph_error(
                    "MailboxNotEnabledForRESTAPI",
                    "The mailbox is either inactive, soft-deleted, or is hosted on-premise.",
                ),
            )
        if mailbox not in self.mailboxes:
            return Reply(
                404, graph_error("ErrorInvalidUser", f"The requested user '{mailbox}' is invalid.")
            )
        if not self.consented:
            return Reply(
                403,
                graph_error(
                    "ErrorAccessDenied", "Access is denied. Check credentials and try again."
                ),
            )
        return self._calendar(request, mailbox, match["rest"])

    def _token(self, request: Recorded) -> Reply:
        form = request.form()
        tenant = request.path.split("/")[1]
        if tenant != self._tenant:
            return entra_error(400, "invalid_request", 90002, f"Tenant '{tenant}' not found.")
        if form.get("grant_type") != "client_credentials":
            return entra_error(
                400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type."
            )
        if form.get("client_id") != self._client_id:
            return entra_error(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{form.get('client_id')}' was not found in the "
                f"directory '{tenant}'.",
            )
        if form.get("client_secret") != self._secret:
            return entra_error(401, "invalid_client", 7000215, "Invalid client secret provided.")
        if form.get("scope") != GRAPH_SCOPE:
            return entra_error(
                400,
                "invalid_scope",
                1002012,
                "Client credential flows must have a scope value with /.default suffixed.",
            )
        token = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9." + secrets.token_urlsafe(24)
        self.tokens.append(token)
        self._live.add(token)
        return Reply(
            200,
            {
                "token_type": "Bearer",
                "expires_in": self._lifetime,
                "ext_expires_in": self._lifetime,
                "access_token": token,
            },
        )

    def _calendar(self, request: Recorded, mailbox: str, rest: str) -> Reply:
        if request.method == "POST" and rest == "/calendar/getSchedule":
            return self._get_schedule(request)
        if request.method == "POST" and rest == "/events":
            created = self._create(request, mailbox)
            return self._after_creating.pop(0) if self._after_creating else created
        if request.method == "GET" and rest == "/events":
            return self._list(request, mailbox)
        if request.method == "GET" and rest == "/calendarView":
            return self._calendar_view(request, mailbox)
        if request.method == "DELETE" and rest.startswith("/events/"):
            removed = self.mailboxes[mailbox].pop(unquote(rest[len("/events/") :]), None)
            if removed is None:
                return Reply(
                    404,
                    graph_error(
                        "ErrorItemNotFound", "The specified object was not found in the store."
                    ),
                )
            return Reply(204)
        return Reply(405, graph_error("ErrorInvalidRequest", "The OData request is not supported."))

    def _get_schedule(self, request: Recorded) -> Reply:
        if request.headers.get("prefer") != 'outlook.timezone="UTC"':
            raise AssertionError("this server answers only in UTC: send Prefer outlook.timezone")
        body = request.json()
        try:
            start, end = _read_time(body["startTime"]), _read_time(body["endTime"])
        except (KeyError, ValueError, TypeError):
            return Reply(
                400, graph_error("ErrorInvalidRequest", "startTime and endTime are required.")
            )
        interval = body.get("availabilityViewInterval", 30)
        if not isinstance(interval, int) or not 5 <= interval <= 1440:
            return Reply(
                400,
                graph_error("ErrorInvalidParameter", "availabilityViewInterval is out of range."),
            )
        if not timedelta(0) < end - start < timedelta(days=62):
            return Reply(
                400, graph_error("ErrorInvalidParameter", "The time duration is out of range.")
            )
        value = [self._schedule(str(s), start, end, interval) for s in body.get("schedules", [])]
        return Reply(
            200,
            {
                "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Collection"
                "(microsoft.graph.scheduleInformation)",
                "value": value,
            },
        )

    def _schedule(
        self, schedule: str, start: datetime, end: datetime, interval: int
    ) -> dict[str, Any]:
        events = self.mailboxes.get(schedule.lower())
        if events is None:
            return {
                "scheduleId": schedule,
                "error": {
                    "message": f"Unable to resolve e-mail address {schedule} to an Active "
                    "Directory object.",
                    "responseCode": "5009",
                },
            }
        shown = sorted(
            (e for e in events.values() if e.start < end and start < e.end and e.show_as != "free"),
            key=lambda e: e.start,
        )
        view = []
        slot = start
        codes = {"tentative": "1", "busy": "2", "oof": "3", "workingElsewhere": "4"}
        while slot < end:
            slot_end = slot + timedelta(minutes=interval)
            here = [codes[e.show_as] for e in shown if e.start < slot_end and slot < e.end]
            view.append(max(here, default="0"))
            slot = slot_end
        return {
            "scheduleId": schedule,
            "availabilityView": "".join(view),
            "scheduleItems": [
                {
                    "isPrivate": False,
                    "status": e.show_as,
                    "subject": e.subject,
                    "start": _graph_time(e.start),
                    "end": _graph_time(e.end),
                }
                for e in shown
            ],
            "workingHours": {
                "daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"],
                "startTime": "08:00:00.0000000",
                "endTime": "17:00:00.0000000",
                "timeZone": {"name": "UTC"},
            },
        }

    def _create(self, request: Recorded, mailbox: str) -> Reply:
        body = request.json()
        transaction = body.get("transactionId")
        events = self.mailboxes[mailbox]
        if transaction is not None:
            for event in events.values():
                if event.transaction_id == transaction:
                    return Reply(201, self._resource(mailbox, event))
        try:
            start, end = _read_time(body["start"]), _read_time(body["end"])
        except (KeyError, ValueError, TypeError):
            return Reply(400, graph_error("ErrorInvalidRequest", "start and end are required."))
        if body.get("isOnlineMeeting") and body.get("onlineMeetingProvider") != "teamsForBusiness":
            return Reply(
                400,
                graph_error("ErrorInvalidRequest", "The online meeting provider is not allowed."),
            )
        properties = {p["id"]: p["value"] for p in body.get("singleValueExtendedProperties", [])}
        event = Event(
            _event_id(),
            body.get("subject", ""),
            start,
            end,
            body.get("showAs", "busy"),
            transaction,
            properties,
            body,
        )
        events[event.id] = event
        return Reply(201, self._resource(mailbox, event))

    def _list(self, request: Recorded, mailbox: str) -> Reply:
        query = parse_qs(request.query)
        wanted = _FILTER.fullmatch(query.get("$filter", [""])[0])
        if wanted is None:
            return Reply(
                400, graph_error("ErrorInvalidUrlQueryFilter", "The query filter is not supported.")
            )
        key, value = wanted["id"].replace("''", "'"), wanted["value"].replace("''", "'")
        found = [
            self._resource(mailbox, e)
            for e in self.mailboxes[mailbox].values()
            if e.properties.get(key) == value
        ]
        return Reply(200, {"value": found})

    def _calendar_view(self, request: Recorded, mailbox: str) -> Reply:
        query = parse_qs(request.query)
        try:
            start = datetime.fromisoformat(query["startDateTime"][0]).astimezone(UTC)
            end = datetime.fromisoformat(query["endDateTime"][0]).astimezone(UTC)
        except (KeyError, ValueError):
            return Reply(
                400,
                graph_error(
                    "ErrorInvalidParameter",
                    "This request requires a time window specified by the query string "
                    "parameters StartDateTime and EndDateTime.",
                ),
            )
        during = [
            self._resource(mailbox, e)
            for e in sorted(self.mailboxes[mailbox].values(), key=lambda e: e.start)
            if e.start < end and start < e.end
        ]
        return Reply(200, {"value": during})

    def _resource(self, mailbox: str, event: Event) -> dict[str, Any]:
        resource: dict[str, Any] = {
            "@odata.context": f"https://graph.microsoft.com/v1.0/$metadata#users('{mailbox}')/events/$entity",
            "id": event.id,
            "createdDateTime": event.created.strftime("%Y-%m-%dT%H:%M:%S.%f0Z"),
            "subject": event.subject,
            "start": _graph_time(event.start),
            "end": _graph_time(event.end),
            "showAs": event.show_as,
            "isCancelled": False,
            "isOrganizer": True,
            "webLink": f"https://outlook.office365.com/owa/?itemid={event.id}&exvsurl=1&path=/calendar/item",
            "organizer": {"emailAddress": {"address": mailbox}},
            "isOnlineMeeting": bool(event.body.get("isOnlineMeeting")),
            "onlineMeetingProvider": event.body.get("onlineMeetingProvider", "unknown"),
            "onlineMeeting": None,
        }
        if resource["isOnlineMeeting"]:
            resource["onlineMeeting"] = {
                "joinUrl": "https://teams.microsoft.com/l/meetup-join/19%3ameeting_"
                + event.id[-12:]
            }
        if event.transaction_id is not None:
            resource["transactionId"] = event.transaction_id
        return resource


def _event_id() -> str:
    """An id shaped like Exchange's (``AAMkAG…=``), base64 with ``-`` and ``_``."""
    return "AAMkAG" + base64.urlsafe_b64encode(secrets.token_bytes(48)).decode()
