"""Leads routes for the team (admins and agents): lists with filters and a CSV export,
one lead, its history, and moving, assigning and annotating it."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any, Literal

from litestar import Controller, Response, get, patch
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import JSONBody, QueryParameter
from litestar.response import Stream
from pydantic import Field, model_validator

from entrypoints.http.auth import staff
from entrypoints.http.errors import problems
from entrypoints.http.schemas import (
    PRINTABLE,
    Id,
    Limit,
    Offset,
    Out,
    PageOut,
    Schema,
    page_out,
    page_request,
)
from talia_core.identity.model import Principal
from talia_core.leads.model import (
    MAX_CHANNEL_LENGTH,
    MAX_NOTES_LENGTH,
    MAX_REASON_LENGTH,
    Cause,
    ChangeKind,
    Lead,
)
from talia_core.leads.ports import LeadFilter, LeadOrder
from talia_core.leads.services import KEEP, Keep, LeadBook
from talia_core.leads.stages import Stage

CSV_COLUMNS = (
    "id",
    "contact_id",
    "business_line",
    "channel",
    "stage",
    "score",
    "owner_id",
    "first_contact_at",
    "last_contact_at",
    "facts",
    "notes",
)
Since = Annotated[
    datetime | None,
    QueryParameter(name="from", description="Last contact at or after this instant."),
]
Until = Annotated[
    datetime | None, QueryParameter(name="to", description="Last contact before this instant.")
]


class LeadOut(Out):
    id: str
    contact_id: str
    business_line: str
    channel: str
    stage: Stage
    score: int
    facts: dict[str, str | int] = Field(
        description="Fact name to value: dates as YYYY-MM-DD, amounts in céntimos of soles."
    )
    owner_id: str | None
    notes: str | None
    first_contact_at: datetime
    last_contact_at: datetime
    created_at: datetime
    updated_at: datetime


class LeadChangeOut(Out):
    id: str
    at: datetime
    kind: ChangeKind
    cause: Cause = Field(description="contact, tool_call, rule, agent or appointment.")
    by: str | None = Field(description="The user, the tool and assistant, or the rules.")
    field: str | None = Field(description="The fact changed, for a fact.")
    before: str | None
    after: str | None
    reason: str | None


class LeadPatch(Schema):
    """The fields sent change; the others are kept. ``owner_id`` or ``notes`` null clear."""

    stage: Stage | None = Field(None, description="A move of the stage; needs a reason.")
    reason: str | None = Field(None, min_length=1, max_length=MAX_REASON_LENGTH)
    owner_id: str | None = Field(None, max_length=36, pattern=PRINTABLE)
    notes: str | None = Field(None, max_length=MAX_NOTES_LENGTH)

    @model_validator(mode="after")
    def _reason_with_stage(self) -> LeadPatch:
        if (self.stage is None) != (self.reason is None):
            raise ValueError("a stage and its reason go together")
        return self

    def kept(self, name: str) -> str | Keep | None:
        value: str | None = getattr(self, name)
        return value if name in self.model_fields_set else KEEP


def _cell(value: object) -> str | int:
    """A spreadsheet reads a cell starting with = + - @ as a formula: such text (notes, a
    customer's words) is written after an apostrophe, read as text."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, int):
        return value
    text = "" if value is None else str(value)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@") else text


def _row(lead: Lead) -> list[str | int]:
    facts = "; ".join(f"{name}={value}" for name, value in sorted(lead.facts.items()))
    values = {**{name: getattr(lead, name) for name in CSV_COLUMNS}, "facts": facts}
    values["stage"] = lead.stage.value
    return [_cell(values[name]) for name in CSV_COLUMNS]


async def _csv(leads: AsyncIterator[Lead]) -> AsyncIterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    async for lead in leads:
        writer.writerow(_row(lead))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


CSV_RESPONSE = {
    200: ResponseSpec(
        data_container=PageOut[LeadOut],
        description="A page of leads, or with format=csv every lead the filters keep as "
        "text/csv (one row per lead, the facts as name=value; name=value).",
    )
}


class LeadController(Controller):
    path = "/api/leads"
    tags = ["leads"]
    guards = [staff]

    @get(responses={**CSV_RESPONSE, **problems(400, 401, 403)})
    async def list_leads(
        self,
        leads: NamedDependency[LeadBook],
        limit: Limit = 50,
        offset: Offset = 0,
        stage: Annotated[Stage | None, QueryParameter(description="Only this stage.")] = None,
        min_score: Annotated[int | None, QueryParameter(ge=0, le=100_000)] = None,
        owner_id: Annotated[str | None, QueryParameter(max_length=36, pattern=PRINTABLE)] = None,
        channel: Annotated[
            str | None, QueryParameter(max_length=MAX_CHANNEL_LENGTH, pattern=PRINTABLE)
        ] = None,
        since: Since = None,
        until: Until = None,
        sort: Annotated[
            LeadOrder, QueryParameter(description="Descending: latest or highest first.")
        ] = LeadOrder.LAST_CONTACT,
        output: Annotated[
            Literal["json", "csv"],
            QueryParameter(name="format", description="csv: every lead, no pages."),
        ] = "json",
    ) -> Response[Any]:
        """Leads by the filters, sorted by ``sort``; ``format=csv`` exports them all."""
        where = LeadFilter(stage, min_score, owner_id, channel, since, until, sort)
        if output == "csv":
            return Stream(
                _csv(leads.everything(where)),
                media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": 'attachment; filename="leads.csv"'},
            )
        page = await leads.list(page_request(limit, offset), where)
        return Response(page_out(page, LeadOut.model_validate))

    @get("/{lead_id:str}", responses=problems(400, 401, 403, 404))
    async def get_lead(self, lead_id: Id, leads: NamedDependency[LeadBook]) -> LeadOut:
        return LeadOut.model_validate(await leads.get(lead_id))

    @patch("/{lead_id:str}", responses=problems(400, 401, 403, 404, 409, 422))
    async def revise_lead(
        self,
        lead_id: Id,
        data: JSONBody[LeadPatch],
        leads: NamedDependency[LeadBook],
        principal: NamedDependency[Principal],
    ) -> LeadOut:
        """Move the stage (with a reason: 409 when the move is not allowed), assign an owner
        or rewrite the notes; each change goes into the history as the caller's."""
        lead = await leads.revise(
            lead_id,
            by=principal.user_id,
            stage=data.stage,
            reason=data.reason,
            owner_id=data.kept("owner_id"),
            notes=data.kept("notes"),
        )
        return LeadOut.model_validate(lead)

    @get("/{lead_id:str}/history", responses=problems(400, 401, 403, 404))
    async def lead_history(
        self,
        lead_id: Id,
        leads: NamedDependency[LeadBook],
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> PageOut[LeadChangeOut]:
        """Every change of the lead's facts, score, stage, owner and notes, oldest first,
        with its cause."""
        page = await leads.history(lead_id, page_request(limit, offset))
        return page_out(page, LeadChangeOut.model_validate)


CONTROLLERS = [LeadController]
