"""RSVP routes: the owner's guest list and answers (also as CSV), and the public answer a
guest sends as JSON or from the page's form (no JavaScript needed)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.exceptions import SerializationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIType, Operation, Reference, RequestBody
from litestar.openapi.spec import Schema as OpenAPISchema
from litestar.params import JSONBody, PathParameter, QueryParameter
from litestar.response import Redirect
from pydantic import BaseModel, Field, ValidationError

from entrypoints.http.auth import Client, customer_or_admin, public
from entrypoints.http.errors import problems
from entrypoints.http.invitations import caller_of
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
from talia_core.identity.ports import AttemptStore
from talia_core.invitations import rsvp
from talia_core.invitations.rsvp import Answer, NoSeatsLeft, Reply, RsvpClosed
from talia_core.invitations.rsvp_services import RsvpService
from talia_core.shared.errors import Malformed, NotFound, RateLimited, RuleViolated, TaliaError

FORM = "application/x-www-form-urlencoded"
FORMS = (FORM, "multipart/form-data")
CSV_COLUMNS = (
    "guest",
    "contact",
    "attending",
    "party_size",
    "names",
    "dietary",
    "message",
    "answered_at",
    "updated_at",
)
GuestId = Annotated[
    str, PathParameter(max_length=36, pattern=PRINTABLE, description="The guest's id.")
]
Slug = Annotated[str, PathParameter(max_length=60, description="The invitation's slug.")]
_NAME_SEPARATORS = re.compile(r"[,\n;]")


class GuestIn(Schema):
    name: str = Field(min_length=1, max_length=rsvp.MAX_GUEST_NAME, description="A family…")
    allowance: JsonInt = Field(ge=1, le=100_000, description="People this guest may bring.")


class GuestOut(Out):
    id: str
    name: str
    allowance: int
    token: str = Field(description="Their link is /i/{slug}?g=<token>.")
    created_at: datetime


class RsvpIn(Schema):
    attending: bool
    party_size: JsonInt = Field(0, ge=0, le=100_000, description="People coming (attending).")
    names: list[str] = Field(default_factory=list, max_length=rsvp.MAX_NAMES)
    dietary: str | None = Field(None, max_length=rsvp.MAX_DIETARY)
    message: str | None = Field(None, max_length=rsvp.MAX_MESSAGE)
    contact: str | None = Field(
        None, max_length=rsvp.MAX_CONTACT, description="E-mail or phone; without a guest list."
    )
    guest_token: str | None = Field(
        None, max_length=rsvp.TOKEN_MAX, description="The ``g`` of the guest's link."
    )


class AnswerOut(Out):
    id: str
    guest_id: str | None
    contact: str | None
    attending: bool
    party_size: int
    names: list[str]
    dietary: str | None
    message: str | None
    created_at: datetime
    updated_at: datetime


class ResponsesOut(BaseModel):
    confirmed: int = Field(description="People confirmed by every answer.")
    allowance: int = Field(description="The most the invitation takes.")
    answers: PageOut[AnswerOut]


def _cell(value: object) -> str | int:
    """A spreadsheet reads a cell starting with = + - @ (or a tab or carriage return before
    one) as a formula: such text, a guest's own words, is written after an apostrophe."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    text = "" if value is None else str(value)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv(answers: list[Answer], guests: dict[str, str]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for answer in answers:
        guest = guests.get(answer.guest_id or "")
        row = (
            guest,
            answer.contact,
            answer.attending,
            answer.party_size,
            "; ".join(answer.names),
            answer.dietary,
            answer.message,
            answer.created_at,
            answer.updated_at,
        )
        writer.writerow([_cell(value) for value in row])
    yield buffer.getvalue()


RESPONSES_SPEC = {
    200: ResponseSpec(
        data_container=ResponsesOut,
        description="A page of answers and the confirmed total, or with format=csv every "
        "answer as text/csv (oldest first; cells a spreadsheet would run as a formula are "
        "written after an apostrophe).",
    )
}


class GuestController(Controller):
    path = "/api/invitations/{invitation_id:str}"
    tags = ["invitations"]
    guards = [customer_or_admin]

    @get("/guests", responses=problems(400, 401, 403, 404))
    async def list_guests(
        self,
        invitation_id: Id,
        rsvp: NamedDependency[RsvpService],
        principal: NamedDependency[Principal],
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> PageOut[GuestOut]:
        """Newest first, each with the token of its link."""
        page = await rsvp.guests(caller_of(principal), invitation_id, page_request(limit, offset))
        return page_out(page, GuestOut.model_validate)

    @post("/guests", responses=problems(400, 401, 403, 404, 422))
    async def add_guest(
        self,
        invitation_id: Id,
        data: JSONBody[GuestIn],
        rsvp: NamedDependency[RsvpService],
        principal: NamedDependency[Principal],
    ) -> GuestOut:
        """A family or group with its own link; 422 when its allowance passes the
        invitation's."""
        guest = await rsvp.add_guest(
            caller_of(principal), invitation_id, name=data.name, allowance=data.allowance
        )
        return GuestOut.model_validate(guest)

    @delete("/guests/{guest_id:str}", responses=problems(400, 401, 403, 404))
    async def remove_guest(
        self,
        invitation_id: Id,
        guest_id: GuestId,
        rsvp: NamedDependency[RsvpService],
        principal: NamedDependency[Principal],
    ) -> None:
        """The guest's answer goes too, giving its places back."""
        await rsvp.remove_guest(caller_of(principal), invitation_id, guest_id)

    @get("/responses", responses={**RESPONSES_SPEC, **problems(400, 401, 403, 404)})
    async def responses(
        self,
        invitation_id: Id,
        rsvp: NamedDependency[RsvpService],
        principal: NamedDependency[Principal],
        limit: Limit = 50,
        offset: Offset = 0,
        output: Annotated[
            Literal["json", "csv"],
            QueryParameter(name="format", description="csv: every answer, no pages."),
        ] = "json",
    ) -> Response[Any]:
        """The answers, newest first, with the people confirmed; ``format=csv`` for all."""
        caller = caller_of(principal)
        if output == "csv":
            answers = await rsvp.every_response(caller, invitation_id)
            guests = {g.id: g.name for g in await rsvp.every_guest(caller, invitation_id)}
            return Response(
                "".join(_csv(answers, guests)),
                media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": 'attachment; filename="responses.csv"'},
            )
        found = await rsvp.responses(caller, invitation_id, page_request(limit, offset))
        return Response(
            ResponsesOut(
                confirmed=found.confirmed,
                allowance=found.allowance,
                answers=page_out(found.page, AnswerOut.model_validate),
            )
        )


class AnswerThrottle:
    """Answers counted per client address in fixed windows, in the store login throttling
    uses (in-process or Redis): a family answering for its members passes, a script filling
    the list does not."""

    ANSWERS, WINDOW_SECONDS = 30, 600

    def __init__(self, store: AttemptStore) -> None:
        self._store = store

    async def count(self, ip: str) -> None:
        window = await self._store.hit(f"rsvp:address:{ip}", window_seconds=self.WINDOW_SECONDS)
        if window.count > self.ANSWERS:
            raise RateLimited("too many answers; try again later", window.resets_in_seconds)


def _properties(*names: str) -> dict[str, OpenAPISchema | Reference]:
    return {name: OpenAPISchema(type=OpenAPIType.STRING) for name in names}


@dataclass
class AnswerOperation(Operation):
    """The answer's body in OpenAPI: the handler reads it itself, as JSON or as a form."""

    def __post_init__(self) -> None:
        sent = {
            "attending": OpenAPISchema(type=OpenAPIType.BOOLEAN),
            "party_size": OpenAPISchema(type=OpenAPIType.INTEGER, minimum=0),
            "names": OpenAPISchema(
                type=OpenAPIType.ARRAY, items=OpenAPISchema(type=OpenAPIType.STRING)
            ),
            **_properties("dietary", "message", "contact", "guest_token"),
        }
        form = {
            "attending": OpenAPISchema(type=OpenAPIType.STRING, enum=["yes", "no"]),
            "names": OpenAPISchema(type=OpenAPIType.STRING, description="Separated by commas."),
            "g": OpenAPISchema(type=OpenAPIType.STRING, description="The guest's token."),
            **_properties("party_size", "dietary", "message", "contact"),
        }
        self.request_body = RequestBody(
            content={
                "application/json": OpenAPIMediaType(
                    schema=OpenAPISchema(
                        type=OpenAPIType.OBJECT, properties=sent, required=["attending"]
                    )
                ),
                FORM: OpenAPIMediaType(
                    schema=OpenAPISchema(
                        type=OpenAPIType.OBJECT, properties=form, required=["attending"]
                    )
                ),
            },
            required=True,
        )


def _refusal(error: TaliaError) -> str:
    """The reason the page shows for a refused form (``/i/{slug}?rsvp=<reason>``)."""
    if isinstance(error, RsvpClosed):
        return "rsvp_closed"
    if isinstance(error, NoSeatsLeft):
        return "no_seats_left"
    if isinstance(error, NotFound) and error.kind == "guest":
        return "invalid_guest"
    if isinstance(error, RuleViolated):
        return "invalid"
    return "refused"


def _from_form(form: dict[str, Any]) -> dict[str, Any]:
    """The page's form as the JSON body: ``attending`` yes/no, ``g`` the guest's token,
    ``names`` one field of names separated by commas or lines; empty fields left out."""
    values = {name: value for name, value in form.items() if value not in ("", None)}
    body: dict[str, Any] = {
        name: values[name] for name in ("dietary", "message", "contact") if name in values
    }
    attending = values.get("attending")
    body["attending"] = {"yes": True, "no": False}.get(str(attending), attending)
    if "g" in values:
        body["guest_token"] = values["g"]
    if "party_size" in values:
        size = str(values["party_size"])
        body["party_size"] = int(size) if size.isdigit() and len(size) < 7 else size
    if "names" in values:
        body["names"] = [n for n in _NAME_SEPARATORS.split(str(values["names"])) if n.strip()]
    return body


def _reply(body: Any) -> Reply:
    try:
        sent = RsvpIn.model_validate(body)
    except ValidationError as error:
        fields = {".".join(map(str, e["loc"])) or "body": e["msg"] for e in error.errors()}
        raise RuleViolated("the answer is not valid", fields) from None
    return Reply(**sent.model_dump())


class PublicRsvpController(Controller):
    path = "/api/public/invitations"
    tags = ["invitations"]

    @post(
        "/{slug:str}/rsvp",
        guards=[public],
        responses={
            303: ResponseSpec(
                data_container=None,
                description=f"A form ({FORM}): back to /i/{{slug}}?rsvp=ok (&g=<token>), or "
                "?rsvp=<reason> when refused: rsvp_closed, no_seats_left, invalid_guest, "
                "invalid, refused.",
            ),
            200: ResponseSpec(
                data_container=AnswerOut, description="The guest's or contact's answer, replaced"
            ),
            201: ResponseSpec(data_container=AnswerOut, description="A new answer"),
            **problems(400, 404, 409, 422, 429),
        },
        status_code=201,
        operation_class=AnswerOperation,
    )
    async def answer(
        self,
        slug: Slug,
        request: Request[Any, Any, Any],
        rsvp: NamedDependency[RsvpService],
        answer_throttle: NamedDependency[AnswerThrottle],
        client: NamedDependency[Client],
    ) -> Response[Any]:
        """A guest's answer, as JSON (``RsvpIn``; 201 new, 200 replacing the guest's or the
        contact's earlier one) or from the page's form (303 back to the page). With a guest
        list the guest's token is needed; without one, a contact (e-mail or phone). 400 for
        a body that is neither, 404 for
        an unpublished invitation or a bad token, 409 past the deadline or the allowance,
        422 for bad input, 429 past the address's answers; nothing is changed."""
        is_form = request.content_type[0] in FORMS
        if not is_form and request.content_type[0] != "application/json":
            raise Malformed("an answer is sent as JSON or as a form")
        token = None
        try:
            if is_form:
                body = _from_form(dict(await request.form()))
                token = body.get("guest_token")
            else:
                body = await _json(request)
            await answer_throttle.count(client.ip)
            answered = await rsvp.reply(slug, _reply(body))
        except TaliaError as error:
            if not is_form:
                raise
            return _back(slug, _refusal(error), None)
        if is_form:
            return _back(slug, "ok", token)
        out = AnswerOut.model_validate(answered.answer)
        return Response(out, status_code=201 if answered.created else 200)


async def _json(request: Request[Any, Any, Any]) -> Any:
    try:
        return await request.json()
    except SerializationException:
        raise Malformed("the body is not JSON") from None


def _back(slug: str, state: str, token: str | None) -> Redirect:
    query = f"rsvp={state}" + (f"&g={token}" if token and re.fullmatch(r"[\w-]+", token) else "")
    return Redirect(f"/i/{slug}?{query}", status_code=303)


CONTROLLERS = [GuestController, PublicRsvpController]
