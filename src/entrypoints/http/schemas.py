"""Schema pieces every controller shares: pages and pagination parameters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Generic, TypeVar

from litestar.params import PathParameter, QueryParameter
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from talia_core.shared.money import Money
from talia_core.shared.pagination import MAX_LIMIT, Page, PageRequest

T = TypeVar("T")
E = TypeVar("E")


class Schema(BaseModel):
    """Request bodies refuse unknown fields, so a typo is a 400, not a silent default."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Out(BaseModel):
    """A response body read from a core object's attributes: only the declared fields leave."""

    model_config = ConfigDict(from_attributes=True)


class PageOut(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


def _json_number(value: object) -> object:
    # Litestar validates bodies in lax mode, which would turn "5" and true into 5 and 1.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a number")
    return value


JsonInt = Annotated[int, BeforeValidator(_json_number)]
"""An integer field of a request body: a JSON number, never a string or a boolean."""
JsonNumber = Annotated[float, BeforeValidator(_json_number)]
"""A number field of a request body, integer or not: never a string or a boolean."""

# PostgreSQL cannot hold NUL, and looking it up is a driver error there: texts that only serve
# to find something (ids, filters) refuse control characters at the edge.
PRINTABLE = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"

Id = Annotated[str, PathParameter(max_length=36, pattern=PRINTABLE, description="Resource id.")]

Limit = Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT, description="Page size.")]
Offset = Annotated[int, QueryParameter(ge=0, le=1_000_000, description="Items to skip.")]


def page_request(limit: int, offset: int) -> PageRequest:
    return PageRequest(limit=limit, offset=offset)


def page_out(page: Page[E], convert: Callable[[E], T]) -> PageOut[T]:
    return PageOut(
        items=[convert(item) for item in page.items],
        total=page.total,
        limit=page.limit,
        offset=page.offset,
    )


class MoneyIn(Schema):
    amount: JsonInt = Field(ge=0, le=100_000_000, description="Integer minor units.")
    currency: str = Field(pattern="^[A-Z]{3}$", description="ISO 4217 code.")

    def value(self) -> Money:
        return Money(self.amount, self.currency)


class MoneyOut(Out):
    amount: int
    currency: str


def money_in(value: MoneyIn | None) -> Money | None:
    return value.value() if value is not None else None
