"""Scheduling routes: free slots (public), appointments for the team, and the local
calendar's iCalendar feed that a calendar app subscribes to with the token in its URL."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from litestar import Controller, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, QueryParameter
from pydantic import Field

from adapters.calendar.local_feed import LocalCalendarFeed
from entrypoints.http.auth import public, staff
from entrypoints.http.errors import problems
from entrypoints.http.schemas import (
    PRINTABLE,
    Id,
    JsonInt,
    Limit,
    Offset,
    Out,
    PageOut,
    Schema,
    page_out,
    page_request,
)
from talia_core.identity.model import Principal
from talia_core.scheduling.model import Appointment, AppointmentStatus
from talia_core.scheduling.services import SchedulingService
from talia_core.shared.errors import NotFound, RuleViolated

CALENDAR = "text/calendar; charset=utf-8"


def _zone(name: str | None, default: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or default)
    except (ZoneInfoNotFoundError, ValueError):
        raise RuleViolated(f"unknown time zone {name!r}", {"tz": "unknown time zone"}) from None


class SlotOut(Out):
    starts_at: datetime
    ends_at: datetime
    local_starts_at: datetime = Field(description="The start in the zone asked for (tz).")


class AvailabilityOut(Out):
    time_zone: str
    duration_minutes: int
    slots: list[SlotOut]


class AppointmentIn(Schema):
    starts_at: datetime = Field(description="ISO 8601 with its offset; a naive time is refused.")
    duration_minutes: JsonInt | None = Field(None, ge=5, le=480)
    customer_name: str | None = Field(None, max_length=120)
    contact_id: str | None = Field(None, max_length=36, pattern=PRINTABLE)
    channel: str | None = Field(None, max_length=32, pattern=PRINTABLE)
    note: str | None = Field(None, max_length=1000)


class AppointmentOut(Out):
    id: str
    calendar_id: str
    starts_at: datetime
    ends_at: datetime
    status: AppointmentStatus
    contact_id: str | None
    customer_name: str | None
    channel: str | None
    note: str | None
    booked_by: str
    created_at: datetime
    confirmed_at: datetime | None
    cancelled_at: datetime | None


class FeedOut(Out):
    url: str = Field(description="Path of the iCalendar feed, its token included.")


def appointment_out(appointment: Appointment) -> AppointmentOut:
    return AppointmentOut.model_validate(appointment)


class AvailabilityController(Controller):
    path = "/api/availability"
    tags = ["scheduling"]

    @get("/", guards=[public], responses=problems(400, 422))
    async def availability(
        self,
        scheduling: NamedDependency[SchedulingService],
        starts_from: Annotated[datetime, QueryParameter(name="from", description="Window start.")],
        until: Annotated[datetime, QueryParameter(name="to", description="Window end.")],
        duration: Annotated[
            int | None, QueryParameter(ge=5, le=480, description="Minutes; one slot if absent.")
        ] = None,
        tz: Annotated[
            str | None,
            QueryParameter(max_length=64, pattern=PRINTABLE, description="The customer's zone."),
        ] = None,
    ) -> AvailabilityOut:
        """Free slots between ``from`` and ``to``, soonest first."""
        rules = scheduling.rules
        zone = _zone(tz, rules.time_zone)
        slots = await scheduling.availability(starts_from, until, duration_minutes=duration)
        return AvailabilityOut(
            time_zone=zone.key,
            duration_minutes=rules.duration(duration),
            slots=[
                SlotOut(starts_at=s.start, ends_at=s.end, local_starts_at=s.start.astimezone(zone))
                for s in slots
            ],
        )


class AppointmentController(Controller):
    path = "/api/appointments"
    tags = ["scheduling"]
    guards = [staff]

    @get("/", responses=problems(400, 401, 403, 422))
    async def list_appointments(
        self,
        scheduling: NamedDependency[SchedulingService],
        limit: Limit = 50,
        offset: Offset = 0,
        status: Annotated[AppointmentStatus | None, QueryParameter()] = None,
        contact_id: Annotated[str | None, QueryParameter(max_length=36, pattern=PRINTABLE)] = None,
        starts_from: Annotated[
            datetime | None, QueryParameter(name="from", description="Starting at or after.")
        ] = None,
        until: Annotated[
            datetime | None, QueryParameter(name="to", description="Starting before.")
        ] = None,
    ) -> PageOut[AppointmentOut]:
        """Appointments, soonest first."""
        page = await scheduling.list_appointments(
            page_request(limit, offset),
            starts_from=starts_from,
            starts_before=until,
            status=status,
            contact_id=contact_id,
        )
        return page_out(page, appointment_out)

    @post("/", responses=problems(400, 401, 403, 409, 422))
    async def book(
        self,
        data: JSONBody[AppointmentIn],
        scheduling: NamedDependency[SchedulingService],
        principal: NamedDependency[Principal],
    ) -> AppointmentOut:
        """Book a slot; 409 when it was taken, 422 naming the rule a slot breaks."""
        appointment = await scheduling.book(
            starts_at=data.starts_at,
            duration_minutes=data.duration_minutes,
            contact_id=data.contact_id,
            customer_name=data.customer_name,
            channel=data.channel,
            note=data.note,
            booked_by=principal.user_id,
        )
        return appointment_out(appointment)

    @get("/{appointment_id:str}", responses=problems(400, 401, 403, 404))
    async def one(
        self, appointment_id: Id, scheduling: NamedDependency[SchedulingService]
    ) -> AppointmentOut:
        return appointment_out(await scheduling.get(appointment_id))

    @delete("/{appointment_id:str}", responses=problems(400, 401, 403, 404))
    async def cancel(
        self,
        appointment_id: Id,
        scheduling: NamedDependency[SchedulingService],
        principal: NamedDependency[Principal],
    ) -> None:
        """Cancel an appointment and free its slot; cancelling again changes nothing."""
        await scheduling.cancel(appointment_id, by=principal.user_id)


class CalendarFeedController(Controller):
    path = "/api/calendars"
    tags = ["scheduling"]

    @get("/{calendar_id:str}/feed-url", guards=[staff], responses=problems(400, 401, 403, 404))
    async def feed_url(
        self,
        calendar_id: Id,
        calendar_feed: NamedDependency[LocalCalendarFeed | None],
    ) -> FeedOut:
        """The feed's URL for a calendar app to subscribe to (local calendar only)."""
        if calendar_feed is None:
            raise NotFound("calendar feed", calendar_id)
        token = calendar_feed.token(calendar_id)
        return FeedOut(url=f"/api/calendars/{calendar_id}/feed.ics?token={token}")

    @get("/{calendar_id:str}/feed.ics", guards=[public], responses=problems(400, 404))
    async def feed(
        self,
        calendar_id: Id,
        calendar_feed: NamedDependency[LocalCalendarFeed | None],
        token: Annotated[str, QueryParameter(max_length=64, pattern=PRINTABLE)] = "",
    ) -> Response[bytes]:
        """The calendar's appointments as iCalendar; the token in the URL stands for a login."""
        if calendar_feed is None:
            raise NotFound("calendar feed", calendar_id)
        body = await calendar_feed.render(calendar_id, token)
        return Response(body, media_type=CALENDAR, headers={"Cache-Control": "no-store"})


CONTROLLERS = [AvailabilityController, AppointmentController, CalendarFeedController]
