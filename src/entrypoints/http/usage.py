"""What the assistants' model calls used and cost, and the price table: admins only.

Costs are in US cents, priced with the table as it is now; a row of a model the table does
not price says ``priced: false`` and has no cost, never a cost of zero.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from litestar import Controller, get, put
from litestar.di import NamedDependency
from litestar.params import JSONBody, QueryParameter
from pydantic import Field

from entrypoints.http.auth import admin_only
from entrypoints.http.errors import problems
from entrypoints.http.schemas import (
    PRINTABLE,
    JsonInt,
    Limit,
    MoneyOut,
    Offset,
    Out,
    PageOut,
    Schema,
    page_out,
    page_request,
)
from talia_core.assistants.definition import MAX_MODEL_LENGTH, MAX_NAME_LENGTH
from talia_core.assistants.ledger import UsageLedger
from talia_core.assistants.prices import (
    MAX_PRICE_PER_MILLION,
    MAX_PRICES,
    ModelPrice,
    PriceTable,
)
from talia_core.assistants.usage import ModelCall, Outcome, UsageReport, UsageRow

First = Annotated[date, QueryParameter(name="from", description="First UTC day.")]
Last = Annotated[date, QueryParameter(name="to", description="Last UTC day, included.")]
AssistantName = Annotated[
    str | None,
    QueryParameter(max_length=MAX_NAME_LENGTH, pattern=PRINTABLE, description="Only this one."),
]
OutcomeFilter = Annotated[Outcome | None, QueryParameter(description="Only calls that ended so.")]
PricePerMillion = Annotated[
    JsonInt, Field(ge=0, le=MAX_PRICE_PER_MILLION, description="US cents per million tokens.")
]


class UsageRowOut(Out):
    day: date
    assistant_id: str
    assistant: str = Field(description="The assistant's name.")
    provider: str
    model: str
    calls: int
    failed: int
    fell_back: int = Field(description="Calls the fallback answered instead (a budget spent).")
    input_tokens: int
    output_tokens: int
    cost: MoneyOut | None = Field(description="Null when the model has no price.")
    priced: bool

    @classmethod
    def of(cls, row: UsageRow) -> UsageRowOut:
        usage = row.usage
        return cls(
            day=usage.day,
            assistant_id=usage.assistant_id,
            assistant=usage.assistant_name,
            provider=usage.provider.value,
            model=usage.model,
            calls=usage.calls,
            failed=usage.failed,
            fell_back=usage.fell_back,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cost=None if row.cost is None else MoneyOut.model_validate(row.cost),
            priced=row.priced,
        )


class UsageTotalsOut(Out):
    calls: int
    input_tokens: int
    output_tokens: int
    cost: MoneyOut = Field(description="Of the priced rows only.")
    priced: bool = Field(description="False when some calls have no price.")
    unpriced_calls: int


class UsageReportOut(PageOut[UsageRowOut]):
    first: date
    last: date
    totals: UsageTotalsOut

    @classmethod
    def of(cls, report: UsageReport) -> UsageReportOut:
        rows = report.rows
        return cls(
            first=report.first,
            last=report.last,
            items=[UsageRowOut.of(row) for row in rows.items],
            total=rows.total,
            limit=rows.limit,
            offset=rows.offset,
            totals=UsageTotalsOut.model_validate(report.totals),
        )


class ModelCallOut(Out):
    id: str
    at: datetime
    assistant_id: str
    assistant_name: str
    assistant_version: int
    conversation_id: str | None
    provider: str
    model: str
    input_tokens: int
    output_tokens: int
    outcome: Outcome
    reason: str | None


class PriceIn(Schema):
    provider: str = Field(min_length=1, max_length=16)
    model: str = Field(min_length=1, max_length=MAX_MODEL_LENGTH)
    input_per_million: PricePerMillion
    output_per_million: PricePerMillion


class PriceTableIn(Schema):
    prices: list[PriceIn] = Field(max_length=MAX_PRICES)

    def table(self) -> PriceTable:
        return PriceTable(
            ModelPrice(p.provider, p.model, p.input_per_million, p.output_per_million)
            for p in self.prices
        )


class PriceOut(Out):
    provider: str
    model: str
    input_per_million: int
    output_per_million: int


class PriceTableOut(Out):
    currency: str
    prices: list[PriceOut]


class UsageController(Controller):
    path = "/api/admin"
    tags = ["assistants", "admin"]
    guards = [admin_only]

    @get("/usage", responses=problems(400, 401, 403, 422))
    async def usage_report(
        self,
        usage: NamedDependency[UsageLedger],
        first: First,
        last: Last,
        assistant: AssistantName = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> UsageReportOut:
        """Model calls per UTC day, assistant, provider and model, with their cost in US
        cents from the price table as it is now. A row whose model has no price says
        ``priced: false`` and has no cost; the totals sum the priced rows and count the
        calls left out."""
        report = await usage.report(first, last, page_request(limit, offset), assistant=assistant)
        return UsageReportOut.of(report)

    @get("/usage/calls", responses=problems(400, 401, 403, 422))
    async def model_calls(
        self,
        usage: NamedDependency[UsageLedger],
        first: First,
        last: Last,
        assistant: AssistantName = None,
        outcome: OutcomeFilter = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> PageOut[ModelCallOut]:
        """The calls themselves, newest first, with why each failed or fell back."""
        page = await usage.calls(
            first, last, page_request(limit, offset), assistant=assistant, outcome=outcome
        )
        return page_out(page, _call)

    @get("/model-prices", responses=problems(401, 403))
    async def model_prices(self, usage: NamedDependency[UsageLedger]) -> PriceTableOut:
        """What a million tokens of each model cost, in US cents."""
        return PriceTableOut.model_validate(await usage.prices())

    @put("/model-prices", responses=problems(400, 401, 403, 422))
    async def set_model_prices(
        self, data: JSONBody[PriceTableIn], usage: NamedDependency[UsageLedger]
    ) -> PriceTableOut:
        """Replace the whole table; reports and budgets price with it from now on. A model
        left out has no price: its calls show ``priced: false``."""
        return PriceTableOut.model_validate(await usage.set_prices(data.table()))


def _call(call: ModelCall) -> ModelCallOut:
    return ModelCallOut.model_validate(call)


CONTROLLERS = [UsageController]
