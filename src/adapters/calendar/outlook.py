"""The ``Calendar`` port on Outlook, through Microsoft Graph with an app-only token.

It serves the calendars it is given, each a mailbox named by its SMTP address; no other
mailbox is touched (an app permission reaches every mailbox of the tenant). Busy time is the
mailbox's free/busy (``POST /users/{mailbox}/calendar/getSchedule``; ``findMeetingTimes``
needs a signed-in user), asked in windows shorter than Graph's 62-day limit; every item but
``free`` and ``workingElsewhere`` is busy. A booking is an event
(``POST /users/{mailbox}/events``) that carries the appointment id twice: as a
``transactionId`` derived from it, so Graph answers a repeated create with the event it
already made, and as an extended property, by which the event is found again (to book
idempotently, to cancel, and after a create that timed out). Inside a booking the slot is
checked against free/busy again, with the mailbox's bookings in this process taking turns;
bookings racing from other processes are settled after the create by the mailbox's calendar
view (``GET /users/{mailbox}/calendarView``): the event made first keeps the time. A
cancellation deletes the event.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx

from adapters.calendar.graph_token import ClientCredentialsToken
from adapters.calendar.graph_wire import (
    GRAPH_URL,
    PREFER_UTC,
    SERVICE,
    error_code,
    failure,
    graph_time,
    read_graph_time,
    unreachable,
)
from adapters.channels.wire import json_object
from talia_core.scheduling.errors import SlotTaken
from talia_core.scheduling.model import CalendarBooking, CalendarEntry, TimeRange
from talia_core.shared.errors import ExternalServiceUnavailable

logger = logging.getLogger("talia.calendar")

# Graph looks up free/busy for periods shorter than 62 days.
SCHEDULE_WINDOW = timedelta(days=61)
AVAILABILITY_VIEW_INTERVAL = 30
# The extended property holding the appointment id on Talia's events (a MAPI named property
# in a property set of Talia's own).
APPOINTMENT_PROPERTY = "String {4f0a7c36-5d1e-4a4b-9b0e-7c1e2a9d6b53} Name TaliaAppointmentId"
_TRANSACTIONS = uuid.UUID("b7d3c1e2-0f4a-4e8b-a6c5-3d2f1e0b9a87")
_NOT_BUSY = frozenset({"free", "workingelsewhere"})


def transaction_id(appointment_id: str) -> str:
    """The ``transactionId`` of an appointment's event: the same for every attempt."""
    return str(uuid.uuid5(_TRANSACTIONS, appointment_id))


class OutlookCalendar:
    def __init__(
        self,
        client: httpx.AsyncClient,
        token: ClientCredentialsToken,
        *,
        mailboxes: Mapping[str, str],
        graph_url: str = GRAPH_URL,
        teams_link: bool = False,
    ) -> None:
        if not graph_url.startswith(("https://", "http://")):
            raise ValueError("the Microsoft Graph URL must start with https://")
        self._client = client
        self._token = token
        self._mailboxes = dict(mailboxes)
        self._graph = graph_url.rstrip("/")
        self._teams_link = teams_link
        self._turns: dict[str, asyncio.Lock] = {}

    async def busy(self, calendar_id: str, start: datetime, end: datetime) -> Sequence[TimeRange]:
        window, mailbox = TimeRange(start, end), self._mailbox(calendar_id)
        found: list[TimeRange] = []
        piece_start = window.start
        while piece_start < window.end:
            piece = TimeRange(piece_start, min(piece_start + SCHEDULE_WINDOW, window.end))
            # What began before this piece overlapped the one before and is already found.
            found += [
                r
                for r in await self._schedule(mailbox, piece)
                if r.overlaps(piece) and (piece.start == window.start or r.start >= piece.start)
            ]
            piece_start = piece.end
        return sorted(found, key=lambda r: (r.start, r.end))

    async def book(self, booking: CalendarBooking) -> CalendarEntry:
        mailbox, wanted = self._mailbox(booking.calendar_id), booking.range
        async with self._turns.setdefault(mailbox, asyncio.Lock()):
            event = await self._find(mailbox, booking.appointment_id)
            if event is None:
                if any(r.overlaps(wanted) for r in await self._schedule(mailbox, wanted)):
                    raise SlotTaken(wanted.start)
                event = await self._create(mailbox, booking)
            await self._keep_if_first(mailbox, event)
            return _entry(booking, event)

    async def cancel(self, calendar_id: str, appointment_id: str) -> None:
        mailbox = self._mailbox(calendar_id)
        held = await self._find(mailbox, appointment_id)
        if held is None:
            return
        await self._delete(mailbox, str(held["id"]))

    def _mailbox(self, calendar_id: str) -> str:
        mailbox = self._mailboxes.get(calendar_id)
        if mailbox is None:
            logger.error("no Outlook mailbox is configured for the calendar %r", calendar_id)
            raise ExternalServiceUnavailable(
                SERVICE, f"no mailbox is configured for the calendar {calendar_id!r}"
            )
        return mailbox

    async def _keep_if_first(self, mailbox: str, event: dict[str, Any]) -> None:
        """Bookings racing in other processes may all have found the time free: of the busy
        events overlapping it, the one Outlook made first keeps it and the others are
        deleted (``SlotTaken``). A later event the business entered by hand does not evict
        an appointment."""
        mine, held = _made(event), _range(event)
        for other in await self._events_during(mailbox, held):
            if (
                other.get("id") != event["id"]
                and str(other.get("showAs", "busy")).lower() not in _NOT_BUSY
                and not other.get("isCancelled")
                and _range(other).overlaps(held)
                and _made(other) < mine
            ):
                await self._delete(mailbox, str(event["id"]))
                raise SlotTaken(held.start)

    async def _events_during(self, mailbox: str, window: TimeRange) -> list[dict[str, Any]]:
        query = {
            "startDateTime": window.start.isoformat(),
            "endDateTime": window.end.isoformat(),
            "$select": "id,start,end,showAs,isCancelled,createdDateTime",
            "$top": "100",
        }
        action = "read the calendar view"
        path = f"{_user(mailbox)}/calendarView"
        response = await self._call("GET", path, action, mailbox, params=query)
        if response.status_code != 200:
            raise failure(response, action, mailbox)
        events = (json_object(response) or {}).get("value")
        if not isinstance(events, list):
            raise ExternalServiceUnavailable(SERVICE, "the calendar view answered no list")
        return [e for e in events if isinstance(e, dict) and e.get("id")]

    async def _delete(self, mailbox: str, event_id: str) -> None:
        path = f"{_user(mailbox)}/events/{quote(event_id, safe='')}"
        response = await self._call("DELETE", path, "delete the event", mailbox)
        if response.status_code == 404 and error_code(response) == "ErrorItemNotFound":
            return  # deleted meanwhile
        if response.status_code not in (200, 204):
            raise failure(response, "delete the event", mailbox)

    async def _schedule(self, mailbox: str, window: TimeRange) -> list[TimeRange]:
        body = {
            "schedules": [mailbox],
            "startTime": graph_time(window.start),
            "endTime": graph_time(window.end),
            "availabilityViewInterval": AVAILABILITY_VIEW_INTERVAL,
        }
        action = "read the free/busy schedule"
        path = f"{_user(mailbox)}/calendar/getSchedule"
        response = await self._call("POST", path, action, mailbox, json=body)
        if response.status_code != 200:
            raise failure(response, action, mailbox)
        schedules = (json_object(response) or {}).get("value")
        if not isinstance(schedules, list) or not schedules or not isinstance(schedules[0], dict):
            raise ExternalServiceUnavailable(SERVICE, "getSchedule answered no schedule")
        schedule: dict[str, Any] = schedules[0]
        error = schedule.get("error")
        if isinstance(error, dict):
            code, message = error.get("responseCode"), error.get("message")
            raise ExternalServiceUnavailable(
                SERVICE, f"the free/busy of {mailbox} is unavailable ({code}: {message})"
            )
        items = schedule.get("scheduleItems") or []
        busy = []
        for item in items if isinstance(items, list) else []:
            status = str(item.get("status", "")).lower() if isinstance(item, dict) else ""
            if status and status not in _NOT_BUSY:
                start = read_graph_time(item.get("start"), "schedule item start")
                end = read_graph_time(item.get("end"), "schedule item end")
                if end > start:
                    busy.append(TimeRange(start, end))
        return busy

    async def _find(self, mailbox: str, appointment_id: str) -> dict[str, Any] | None:
        """The event holding the appointment, if the mailbox has one."""
        value = appointment_id.replace("'", "''")
        query = {
            "$filter": "singleValueExtendedProperties/Any(ep: ep/id eq "
            f"'{APPOINTMENT_PROPERTY}' and ep/value eq '{value}')",
            "$select": "id,start,end,createdDateTime,transactionId",
        }
        action = "look up the appointment's event"
        response = await self._call(
            "GET", f"{_user(mailbox)}/events", action, mailbox, params=query
        )
        if response.status_code != 200:
            raise failure(response, action, mailbox)
        events = (json_object(response) or {}).get("value")
        if not isinstance(events, list):
            raise ExternalServiceUnavailable(SERVICE, "the event lookup answered no list")
        return next((e for e in events if isinstance(e, dict) and e.get("id")), None)

    async def _create(self, mailbox: str, booking: CalendarBooking) -> dict[str, Any]:
        body: dict[str, Any] = {
            "subject": booking.summary,
            "body": {"contentType": "text", "content": booking.description},
            "start": graph_time(booking.starts_at),
            "end": graph_time(booking.ends_at),
            "showAs": "busy",
            "transactionId": transaction_id(booking.appointment_id),
            "singleValueExtendedProperties": [
                {"id": APPOINTMENT_PROPERTY, "value": booking.appointment_id}
            ],
        }
        if self._teams_link:
            body |= {"isOnlineMeeting": True, "onlineMeetingProvider": "teamsForBusiness"}
        action = "create the event"
        path = f"{_user(mailbox)}/events"
        try:
            response = await self._call("POST", path, action, mailbox, json=body)
        except ExternalServiceUnavailable:
            # No answer: Graph may have made the event all the same.
            made = await self._find(mailbox, booking.appointment_id)
            if made is None:
                raise
            return made
        if response.status_code >= 500:
            made = await self._find(mailbox, booking.appointment_id)
            if made is not None:
                return made
        if response.status_code not in (200, 201):
            raise failure(response, action, mailbox)
        event = json_object(response)
        if event is None or not isinstance(event.get("id"), str):
            raise ExternalServiceUnavailable(SERVICE, "Graph created an event without an id")
        return event

    async def _call(
        self,
        method: str,
        path: str,
        action: str,
        mailbox: str,
        *,
        json: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
    ) -> httpx.Response:
        token = await self._token.bearer()
        headers = {"Authorization": f"Bearer {token}", **PREFER_UTC}
        try:
            response = await self._client.request(
                method, self._graph + path, json=json, params=params, headers=headers
            )
        except httpx.RequestError as error:
            raise unreachable(action, error) from error
        if response.status_code == 401:
            self._token.forget(token)
            raise failure(response, action, mailbox)
        return response


def _user(mailbox: str) -> str:
    return f"/users/{quote(mailbox, safe='@')}"


def _range(event: dict[str, Any]) -> TimeRange:
    start = read_graph_time(event.get("start"), "event start")
    end = read_graph_time(event.get("end"), "event end")
    return TimeRange(start, max(end, start + timedelta(microseconds=1)))


def _made(event: dict[str, Any]) -> tuple[datetime, str]:
    """When Outlook made the event, its id breaking ties: the order racing bookings agree on."""
    made = event.get("createdDateTime")
    try:
        at = datetime.fromisoformat(made) if isinstance(made, str) else None
    except ValueError:
        at = None
    if at is None or at.tzinfo is None:
        raise ExternalServiceUnavailable(SERVICE, "Graph answered an event without createdDateTime")
    return at.astimezone(UTC), str(event["id"])


def _entry(booking: CalendarBooking, event: dict[str, Any]) -> CalendarEntry:
    held = _range(event)
    return CalendarEntry(
        appointment_id=booking.appointment_id,
        calendar_id=booking.calendar_id,
        event_id=str(event["id"]),
        starts_at=held.start,
        ends_at=held.end,
    )
