"""Catalog routes: the public listings, served from a short-lived cache with ETags, and the
admin's changes, which clear that cache."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Annotated, Any

import attrs
from litestar import Controller, delete, get, patch, post
from litestar.datastructures import ResponseHeader
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import JSONBody, QueryParameter
from litestar.response.base import ASGIResponse
from pydantic import BaseModel, Field

from entrypoints.http.auth import admin_only, public
from entrypoints.http.errors import problems
from entrypoints.http.etags import IfNoneMatch, etag_matches
from entrypoints.http.schemas import (
    PRINTABLE,
    Id,
    JsonInt,
    Limit,
    MoneyIn,
    MoneyOut,
    Offset,
    Out,
    Schema,
    money_in,
)
from talia_core.catalog.model import PlanAllowances
from talia_core.catalog.services import CatalogService
from talia_core.invitations.fields import FieldSchema

JSON = "application/json"
FIELDS = (
    "The JSON schema of an invitation's data (object properties of type string, number, "
    "integer, boolean, array or date-formatted string; required, maxLength, enum, items, "
    "maxItems). None: the default wedding fields."
)
CACHE_CONTROL = "public, no-cache"  # keep it, but ask before using it: ETags make that cheap
MAX_CACHED = 256


class AllowancesIn(Schema):
    """What an invitation bought with the plan may hold; omitted ones keep the defaults."""

    guests: JsonInt = 100
    media_count: JsonInt = 10
    media_bytes: JsonInt = 5_000_000
    events: JsonInt = 5
    custom_slug: bool = False
    published_days: JsonInt = 365

    def value(self) -> PlanAllowances:
        return PlanAllowances(**self.model_dump())


class AllowancesOut(Out):
    guests: int
    media_count: int
    media_bytes: int
    events: int
    custom_slug: bool
    published_days: int


class PlanIn(Schema):
    name: str = Field(min_length=1, max_length=120)
    price: MoneyIn
    features: list[str] = Field(default_factory=list, max_length=30)
    active: bool = True
    allowances: AllowancesIn | None = None


class PlanPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=120)
    price: MoneyIn | None = None
    features: list[str] | None = Field(None, max_length=30)
    active: bool | None = None
    allowances: AllowancesIn | None = None


class PlanOut(Out):
    id: str
    name: str
    price: MoneyOut
    features: list[str]
    allowances: AllowancesOut
    active: bool
    updated_at: datetime


class TemplateIn(Schema):
    name: str = Field(min_length=1, max_length=120)
    category: str = Field(min_length=1, max_length=60)
    price: MoneyIn
    preview_url: str | None = Field(None, max_length=500)
    active: bool = True
    fields: dict[str, Any] | None = Field(None, description=FIELDS)


class TemplatePatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=120)
    category: str | None = Field(None, min_length=1, max_length=60)
    price: MoneyIn | None = None
    preview_url: str | None = Field(None, max_length=500)
    active: bool | None = None
    fields: dict[str, Any] | None = Field(None, description=FIELDS)


class TemplateOut(Out):
    id: str
    name: str
    category: str
    price: MoneyOut
    preview_url: str | None
    fields: dict[str, Any] | None = Field(description=FIELDS)
    active: bool
    updated_at: datetime


class PlanList(BaseModel):
    items: list[PlanOut]
    total: int
    limit: int
    offset: int


class TemplateList(BaseModel):
    items: list[TemplateOut]
    total: int
    limit: int
    offset: int


Category = Annotated[
    str | None, QueryParameter(max_length=60, pattern=PRINTABLE, description="Only this category.")
]


class PublicCatalog:
    """The public listings, encoded and kept for ``ttl`` seconds with an ETag digest each.

    The digest depends only on the content, so every worker gives the same ETag for the
    same catalog; an admin write clears this worker's copies at once, the other workers'
    expire within ``ttl``. Handlers take this one dependency, the catalog service inside
    it, so Litestar resolves a single provider per request.
    """

    def __init__(
        self,
        catalog: Callable[[], CatalogService],
        ttl: float,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self._catalog = catalog
        self._ttl = ttl
        self._now = now
        self._entries: dict[tuple[Any, ...], _Listing] = {}
        self._generation = 0

    def clear(self) -> None:
        self._generation += 1
        self._entries.clear()

    async def plans(self, limit: int, offset: int, if_none_match: str | None) -> ASGIResponse:
        async def encode() -> bytes:
            plans = [PlanOut.model_validate(p) for p in await self._catalog().list_plans()]
            return (
                PlanList.model_validate(_listing(plans, limit, offset)).model_dump_json().encode()
            )

        return await self._respond(("plans", limit, offset), encode, if_none_match)

    async def templates(
        self, category: str | None, limit: int, offset: int, if_none_match: str | None
    ) -> ASGIResponse:
        async def encode() -> bytes:
            found = await self._catalog().list_templates(category=category)
            listing = _listing([TemplateOut.model_validate(t) for t in found], limit, offset)
            return TemplateList.model_validate(listing).model_dump_json().encode()

        key = ("templates", (category or "").lower(), limit, offset)
        return await self._respond(key, encode, if_none_match)

    async def _respond(
        self,
        key: tuple[Any, ...],
        encode: Callable[[], Awaitable[bytes]],
        if_none_match: str | None,
    ) -> ASGIResponse:
        """The listing under ``key``, encoded by ``encode`` when it is not held; a 304 when
        the client's ETag is current."""
        entry = self._entries.get(key)
        if entry is None or entry.expires <= self._now():
            generation = self._generation
            entry = _Listing.of(await encode(), expires=self._now() + self._ttl)
            if len(self._entries) >= MAX_CACHED:
                self._entries.clear()
            # A listing read while an admin changed the catalog answers this request only.
            if self._ttl > 0 and generation == self._generation:
                self._entries[key] = entry
        if if_none_match is not None and etag_matches(if_none_match, entry.etag):
            return entry.not_modified
        return entry.ok


@attrs.frozen
class _Listing:
    """An encoded listing and its two answers, built once: an ASGI response only reads its
    body and headers when it is sent, so one instance serves every request."""

    expires: float
    etag: str
    ok: ASGIResponse
    not_modified: ASGIResponse

    @classmethod
    def of(cls, body: bytes, *, expires: float) -> _Listing:
        etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
        headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
        return cls(
            expires=expires,
            etag=etag,
            ok=ASGIResponse(body=body, media_type=JSON, headers=headers),
            not_modified=ASGIResponse(status_code=304, headers=headers),
        )


ETAG_HEADERS = [
    ResponseHeader(
        name="ETag",
        documentation_only=True,
        description="Digest of the listing; send it back in If-None-Match.",
    ),
    ResponseHeader(name="Cache-Control", documentation_only=True, description=CACHE_CONTROL),
]


def listing(model: type[BaseModel]) -> dict[int, ResponseSpec]:
    """The handlers answer with ready-made ASGI responses, so OpenAPI is told their shape."""
    return {
        200: ResponseSpec(data_container=model, description="The listing, with its ETag"),
        304: ResponseSpec(
            data_container=None, description="The listing has not changed since that ETag"
        ),
    }


def _listing(items: Sequence[BaseModel], limit: int, offset: int) -> dict[str, Any]:
    return {
        "items": [item.model_dump(mode="json") for item in items[offset : offset + limit]],
        "total": len(items),
        "limit": limit,
        "offset": offset,
    }


class CatalogController(Controller):
    tags = ["catalog"]

    @get(
        "/api/plans",
        guards=[public],
        response_headers=ETAG_HEADERS,
        responses={**listing(PlanList), **problems(400)},
    )
    async def list_plans(
        self,
        public_catalog: NamedDependency[PublicCatalog],
        limit: Limit = 200,
        offset: Offset = 0,
        if_none_match: IfNoneMatch = None,
    ) -> ASGIResponse:
        """Plans for sale, cheapest first. Answers 304 when ``If-None-Match`` holds the ETag."""
        return await public_catalog.plans(limit, offset, if_none_match)

    @get(
        "/api/templates",
        guards=[public],
        response_headers=ETAG_HEADERS,
        responses={**listing(TemplateList), **problems(400)},
    )
    async def list_templates(
        self,
        public_catalog: NamedDependency[PublicCatalog],
        category: Category = None,
        limit: Limit = 200,
        offset: Offset = 0,
        if_none_match: IfNoneMatch = None,
    ) -> ASGIResponse:
        """Templates for sale by category, then cheapest first. Same caching as plans."""
        return await public_catalog.templates(category, limit, offset, if_none_match)


class CatalogAdminController(Controller):
    """Every change clears the public listings' cache of this worker."""

    tags = ["catalog", "admin"]
    guards = [admin_only]

    @get("/api/admin/plans", responses=problems(401, 403))
    async def all_plans(self, catalog: NamedDependency[CatalogService]) -> list[PlanOut]:
        """Every plan, active or not."""
        return [PlanOut.model_validate(p) for p in await catalog.list_plans(active_only=False)]

    @post("/api/admin/plans", responses=problems(400, 401, 403, 422))
    async def create_plan(
        self,
        data: JSONBody[PlanIn],
        catalog: NamedDependency[CatalogService],
        public_catalog: NamedDependency[PublicCatalog],
    ) -> PlanOut:
        plan = await catalog.create_plan(
            name=data.name,
            price=data.price.value(),
            features=data.features,
            active=data.active,
            allowances=data.allowances.value() if data.allowances else None,
        )
        public_catalog.clear()
        return PlanOut.model_validate(plan)

    @patch("/api/admin/plans/{plan_id:str}", responses=problems(400, 401, 403, 404, 422))
    async def update_plan(
        self,
        plan_id: Id,
        data: JSONBody[PlanPatch],
        catalog: NamedDependency[CatalogService],
        public_catalog: NamedDependency[PublicCatalog],
    ) -> PlanOut:
        """Change the fields sent; the others stay."""
        plan = await catalog.update_plan(
            plan_id,
            name=data.name,
            price=money_in(data.price),
            features=data.features,
            active=data.active,
            allowances=data.allowances.value() if data.allowances else None,
        )
        public_catalog.clear()
        return PlanOut.model_validate(plan)

    @delete("/api/admin/plans/{plan_id:str}", responses=problems(400, 401, 403, 404))
    async def delete_plan(
        self,
        plan_id: Id,
        catalog: NamedDependency[CatalogService],
        public_catalog: NamedDependency[PublicCatalog],
    ) -> None:
        """Remove a plan; orders keep their copy of it, carts show it as unavailable."""
        await catalog.delete_plan(plan_id)
        public_catalog.clear()

    @get("/api/admin/templates", responses=problems(401, 403))
    async def all_templates(self, catalog: NamedDependency[CatalogService]) -> list[TemplateOut]:
        return [
            TemplateOut.model_validate(t) for t in await catalog.list_templates(active_only=False)
        ]

    @post("/api/admin/templates", responses=problems(400, 401, 403, 422))
    async def create_template(
        self,
        data: JSONBody[TemplateIn],
        catalog: NamedDependency[CatalogService],
        public_catalog: NamedDependency[PublicCatalog],
    ) -> TemplateOut:
        template = await catalog.create_template(
            name=data.name,
            category=data.category,
            price=data.price.value(),
            preview_url=data.preview_url,
            active=data.active,
            fields=_field_schema(data.fields),
        )
        public_catalog.clear()
        return TemplateOut.model_validate(template)

    @patch("/api/admin/templates/{template_id:str}", responses=problems(400, 401, 403, 404, 422))
    async def update_template(
        self,
        template_id: Id,
        data: JSONBody[TemplatePatch],
        catalog: NamedDependency[CatalogService],
        public_catalog: NamedDependency[PublicCatalog],
    ) -> TemplateOut:
        template = await catalog.update_template(
            template_id,
            name=data.name,
            category=data.category,
            price=money_in(data.price),
            preview_url=data.preview_url,
            active=data.active,
            fields=_field_schema(data.fields),
        )
        public_catalog.clear()
        return TemplateOut.model_validate(template)

    @delete("/api/admin/templates/{template_id:str}", responses=problems(400, 401, 403, 404))
    async def delete_template(
        self,
        template_id: Id,
        catalog: NamedDependency[CatalogService],
        public_catalog: NamedDependency[PublicCatalog],
    ) -> None:
        await catalog.delete_template(template_id)
        public_catalog.clear()


def _field_schema(fields: dict[str, Any] | None) -> dict[str, Any] | None:
    """The schema as sent, once the invitations context can read it (422 on ``fields``)."""
    if fields is not None:
        FieldSchema.parse(fields)
    return fields


CONTROLLERS = [CatalogController, CatalogAdminController]
