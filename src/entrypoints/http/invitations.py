"""Invitation routes: the owner's (or an admin's) invitations, their data, events and
publishing. Invitations are made when their order is paid; an admin may add one for a sale
made outside the shop."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from litestar import Controller, delete, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import JSONBody, PathParameter
from pydantic import Field, model_validator

from entrypoints.http.auth import customer_or_admin
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
from talia_core.invitations.model import Event, Invitation, InvitationStatus
from talia_core.invitations.services import Caller, InvitationService

EventId = Annotated[
    str, PathParameter(max_length=36, pattern=PRINTABLE, description="The event's id.")
]
OptionalId = Annotated[str | None, Field(None, max_length=36, pattern=PRINTABLE)]


def caller_of(principal: Principal) -> Caller:
    return Caller(principal.user_id, is_admin=principal.is_admin)


class InvitationIn(Schema):
    owner_id: str = Field(min_length=1, max_length=36, pattern=PRINTABLE)
    template_id: OptionalId = None
    plan_id: OptionalId = None


class InvitationPatch(Schema):
    """The data fields sent change; the others stay (``null`` clears one)."""

    data: dict[str, Any]


class EventIn(Schema):
    type: str = Field(min_length=1, max_length=40, description="ceremony, reception…")
    starts_at: datetime = Field(description="With its offset.")
    ends_at: datetime | None = None
    time_zone: str = Field(min_length=1, max_length=60, description="IANA name, e.g. America/Lima")
    venue: str | None = Field(None, max_length=160)
    address: str | None = Field(None, max_length=300)
    map_url: str | None = Field(None, max_length=500)


class EventPatch(Schema):
    type: str | None = Field(None, min_length=1, max_length=40)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    time_zone: str | None = Field(None, min_length=1, max_length=60)
    venue: str | None = Field(None, max_length=160)
    address: str | None = Field(None, max_length=300)
    map_url: str | None = Field(None, max_length=500)
    position: JsonInt | None = Field(None, ge=0, le=1_000)

    @model_validator(mode="after")
    def _required_stay(self) -> EventPatch:
        cleared = {"type", "starts_at", "time_zone", "position"} & {
            name for name in self.model_fields_set if getattr(self, name) is None
        }
        if cleared:
            raise ValueError(f"{', '.join(sorted(cleared))} cannot be cleared")
        return self


class PublishIn(Schema):
    slug: str | None = Field(
        None, max_length=60, description="Only when the plan allows choosing it."
    )


class AllowancesOut(Out):
    guests: int
    media_count: int
    media_bytes: int
    events: int
    custom_slug: bool
    published_days: int


class EventOut(Out):
    id: str
    type: str
    starts_at: datetime = Field(description="In the event's time zone.")
    ends_at: datetime | None
    time_zone: str
    venue: str | None
    address: str | None
    map_url: str | None
    position: int


class InvitationOut(Out):
    id: str
    owner_id: str
    order_id: str | None
    template_id: str | None
    plan_id: str | None
    status: InvitationStatus
    slug: str | None
    data: dict[str, Any]
    events: list[EventOut]
    allowances: AllowancesOut
    published_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None
    created_at: datetime
    updated_at: datetime


def event_out(event: Event) -> EventOut:
    zone = ZoneInfo(event.time_zone)
    return EventOut(
        id=event.id,
        type=event.type,
        starts_at=event.starts_at.astimezone(zone),
        ends_at=event.ends_at.astimezone(zone) if event.ends_at else None,
        time_zone=event.time_zone,
        venue=event.venue,
        address=event.address,
        map_url=event.map_url,
        position=event.position,
    )


def invitation_out(invitation: Invitation) -> InvitationOut:
    return InvitationOut(
        id=invitation.id,
        owner_id=invitation.owner_id,
        order_id=invitation.order_id,
        template_id=invitation.template_id,
        plan_id=invitation.plan_id,
        status=invitation.status,
        slug=invitation.slug,
        data=invitation.data,
        events=[event_out(event) for event in invitation.events],
        allowances=AllowancesOut.model_validate(invitation.allowances),
        published_at=invitation.published_at,
        expires_at=invitation.expires_at,
        revoked_at=invitation.revoked_at,
        created_at=invitation.created_at,
        updated_at=invitation.updated_at,
    )


class InvitationController(Controller):
    path = "/api/invitations"
    tags = ["invitations"]
    guards = [customer_or_admin]

    @get("/", responses=problems(400, 401, 403))
    async def list_own(
        self,
        invitations: NamedDependency[InvitationService],
        principal: NamedDependency[Principal],
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> PageOut[InvitationOut]:
        """The caller's invitations, newest first; an admin's listing holds everyone's."""
        page = await invitations.list(caller_of(principal), page_request(limit, offset))
        return page_out(page, invitation_out)

    @post("/", responses=problems(400, 401, 403, 422))
    async def create(
        self,
        data: JSONBody[InvitationIn],
        invitations: NamedDependency[InvitationService],
        principal: NamedDependency[Principal],
    ) -> InvitationOut:
        """Admins only: an invitation for a sale made outside the shop. A paid order makes
        its own invitations."""
        invitation = await invitations.create(
            caller_of(principal),
            owner_id=data.owner_id,
            template_id=data.template_id,
            plan_id=data.plan_id,
        )
        return invitation_out(invitation)

    @get("/{invitation_id:str}", responses=problems(400, 401, 403, 404))
    async def get_one(
        self,
        invitation_id: Id,
        invitations: NamedDependency[InvitationService],
        principal: NamedDependency[Principal],
    ) -> InvitationOut:
        return invitation_out(await invitations.get(caller_of(principal), invitation_id))

    @patch("/{invitation_id:str}", responses=problems(400, 401, 403, 404, 422))
    async def update(
        self,
        invitation_id: Id,
        data: JSONBody[InvitationPatch],
        invitations: NamedDependency[InvitationService],
        principal: NamedDependency[Principal],
    ) -> InvitationOut:
        """Change the data fields sent, checked against the template's schema."""
        invitation = await invitations.save_data(
            caller_of(principal), invitation_id, data.data, merge=True
        )
        return invitation_out(invitation)

    @delete("/{invitation_id:str}", responses=problems(400, 401, 403, 404, 409))
    async def remove(
        self,
        invitation_id: Id,
        invitations: NamedDependency[InvitationService],
        principal: NamedDependency[Principal],
    ) -> None:
        """A published invitation is unpublished first (409)."""
        await invitations.delete(caller_of(principal), invitation_id)

    @put("/{invitation_id:str}/data", responses=problems(400, 401, 403, 404, 422))
    async def replace_data(
        self,
        invitation_id: Id,
        data: JSONBody[dict[str, Any]],
        invitations: NamedDependency[InvitationService],
        principal: NamedDependency[Principal],
    ) -> InvitationOut:
        """Replace the data: unknown fields and values of the wrong kind are refused (422
        naming each as ``data.<field>``); required fields are asked for at publishing."""
        invitation = await invitations.save_data(
            caller_of(principal), invitation_id, data, merge=False
        )
        return invitation_out(invitation)

    @get("/{invitation_id:str}/events", responses=problems(400, 401, 403, 404))
    async def list_events(
        self,
        invitation_id: Id,
        invitations: NamedDependency[InvitationService],
        principal: NamedDependency[Principal],
    ) -> list[EventOut]:
        """In their order."""
        invitation = await invitations.get(caller_of(principal), invitation_id)
        return [event_out(event) for event in invitation.events]

    @post("/{invitation_id:str}/events", responses=problems(400, 401, 403, 404, 422))
    async def add_event(
        self,
        invitation_id: Id,
        data: JSONBody[EventIn],
        invitations: NamedDependency[InvitationService],
        principal: NamedDependency[Principal],
    ) -> EventOut:
        """Last in order; 422 past the plan's number of events."""
        event = Event(**data.model_dump())
        added = await invitations.add_event(caller_of(principal), invitation_id, event)
        return event_out(added)

    @patch(
        "/{invitation_id:str}/events/{event_id:str}", responses=problems(400, 401, 403, 404, 422)
    )
    async def revise_event(
        self,
        invitation_id: Id,
        event_id: EventId,
        data: JSONBody[EventPatch],
        invitations: NamedDependency[InvitationService],
        principal: NamedDependency[Principal],
    ) -> EventOut:
        """Change the fields sent; ``position`` moves the event among the others."""
        changes = data.model_dump(exclude_unset=True)
        revised = await invitations.revise_event(
            caller_of(principal), invitation_id, event_id, changes
        )
        return event_out(revised)

    @delete("/{invitation_id:str}/events/{event_id:str}", responses=problems(400, 401, 403, 404))
    async def remove_event(
        self,
        invitation_id: Id,
        event_id: EventId,
        invitations: NamedDependency[InvitationService],
        principal: NamedDependency[Principal],
    ) -> None:
        await invitations.remove_event(caller_of(principal), invitation_id, event_id)

    @post(
        "/{invitation_id:str}/publish",
        status_code=200,
        responses=problems(400, 401, 403, 404, 409, 422),
    )
    async def publish(
        self,
        invitation_id: Id,
        invitations: NamedDependency[InvitationService],
        principal: NamedDependency[Principal],
        data: JSONBody[PublishIn | None] = None,
    ) -> InvitationOut:
        """Publish under the slug sent (when the plan allows) or one made from the data.
        422 when a required field is missing; 409 when the slug is taken or reserved, or
        the order was refunded."""
        invitation = await invitations.publish(
            caller_of(principal), invitation_id, slug=data.slug if data else None
        )
        return invitation_out(invitation)

    @post(
        "/{invitation_id:str}/unpublish",
        status_code=200,
        responses=problems(400, 401, 403, 404, 409),
    )
    async def unpublish(
        self,
        invitation_id: Id,
        invitations: NamedDependency[InvitationService],
        principal: NamedDependency[Principal],
    ) -> InvitationOut:
        """The slug stays the invitation's, for publishing again."""
        return invitation_out(await invitations.unpublish(caller_of(principal), invitation_id))


CONTROLLERS = [InvitationController]
