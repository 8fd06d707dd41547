"""Tables and repositories of model usage: the calls, and the price table.

``model_calls`` is a log: one row per call keyed by the call's id (recording it twice is a
``Conflict``), with its UTC ``day`` stored beside the instant so that reports and budget
checks read one index, (day, assistant_name), and sum with GROUP BY. It refers to no
table, so recording a call never fails over another row. ``model_prices`` holds one row
per provider and model, in US cents per million tokens.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa

from adapters.persistence.bundle import RepositoryBundle, bound
from adapters.persistence.connection import Transaction
from adapters.persistence.mapping import as_row, from_row
from adapters.persistence.metadata import UtcDateTime, id_column, metadata
from talia_core.assistants.definition import MAX_MODEL_LENGTH, MAX_NAME_LENGTH, Provider
from talia_core.assistants.prices import ModelPrice, PriceTable
from talia_core.assistants.usage import MAX_REASON_LENGTH, DailyUsage, ModelCall, Outcome
from talia_core.shared.pagination import Page, PageRequest

model_calls = sa.Table(
    "model_calls",
    metadata,
    id_column(primary_key=True),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("day", sa.Date, nullable=False),
    id_column("assistant_id", nullable=False),
    sa.Column("assistant_name", sa.String(MAX_NAME_LENGTH), nullable=False),
    sa.Column("assistant_version", sa.Integer, nullable=False),
    id_column("conversation_id"),
    sa.Column("provider", sa.String(16), nullable=False),
    sa.Column("model", sa.String(MAX_MODEL_LENGTH), nullable=False),
    sa.Column("input_tokens", sa.Integer, nullable=False),
    sa.Column("output_tokens", sa.Integer, nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("reason", sa.String(MAX_REASON_LENGTH)),
    sa.Index(None, "day", "assistant_name"),
)

model_prices = sa.Table(
    "model_prices",
    metadata,
    sa.Column("provider", sa.String(16), primary_key=True),
    sa.Column("model", sa.String(MAX_MODEL_LENGTH), primary_key=True),
    sa.Column("input_per_million", sa.BigInteger, nullable=False),
    sa.Column("output_per_million", sa.BigInteger, nullable=False),
)


def _counted(outcome: Outcome) -> sa.ColumnElement[Any]:
    return sa.func.sum(sa.case((model_calls.c.outcome == outcome.value, 1), else_=0))


_KEYS = (
    model_calls.c.day,
    model_calls.c.assistant_name,
    model_calls.c.assistant_id,
    model_calls.c.provider,
    model_calls.c.model,
)
_DAILY = sa.select(
    *_KEYS,
    sa.func.count().label("calls"),
    _counted(Outcome.FAILED).label("failed"),
    _counted(Outcome.FELL_BACK).label("fell_back"),
    sa.func.sum(model_calls.c.input_tokens).label("input_tokens"),
    sa.func.sum(model_calls.c.output_tokens).label("output_tokens"),
).group_by(*_KEYS)


def _daily(row: sa.RowMapping) -> DailyUsage:
    # SUM is a DECIMAL on MySQL and MariaDB.
    return DailyUsage(
        day=row["day"],
        assistant_id=row["assistant_id"],
        assistant_name=row["assistant_name"],
        provider=Provider(row["provider"]),
        model=row["model"],
        calls=int(row["calls"]),
        failed=int(row["failed"]),
        fell_back=int(row["fell_back"]),
        input_tokens=int(row["input_tokens"]),
        output_tokens=int(row["output_tokens"]),
    )


def _in(first: date, last: date, assistant: str | None) -> sa.ColumnElement[bool]:
    condition: sa.ColumnElement[bool] = model_calls.c.day.between(first, last)
    if assistant is not None:
        condition = sa.and_(condition, model_calls.c.assistant_name == assistant)
    return condition


class SqlAlchemyModelCallRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def add(self, call: ModelCall) -> None:
        await self._tx.execute(model_calls.insert().values(**as_row(call), day=call.day))

    async def daily(
        self, first: date, last: date, assistant: str | None = None
    ) -> list[DailyUsage]:
        query = _DAILY.where(_in(first, last, assistant)).order_by(*_KEYS)
        return [_daily(row._mapping) for row in await self._tx.execute(query)]

    async def find(
        self,
        first: date,
        last: date,
        page: PageRequest,
        *,
        assistant: str | None = None,
        outcome: Outcome | None = None,
    ) -> Page[ModelCall]:
        condition = _in(first, last, assistant)
        if outcome is not None:
            condition = sa.and_(condition, model_calls.c.outcome == outcome.value)
        order = [model_calls.c.at.desc(), model_calls.c.id.desc()]
        query = model_calls.select().where(condition)
        return await self._tx.page(query, page, order, lambda row: from_row(ModelCall, row))


class SqlAlchemyModelPriceRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def table(self) -> PriceTable:
        rows = await self._tx.execute(model_prices.select())
        return PriceTable(tuple(from_row(ModelPrice, row._mapping) for row in rows))

    async def replace(self, table: PriceTable) -> None:
        await self._tx.execute(model_prices.delete())
        if table.prices:
            await self._tx.execute(model_prices.insert(), [as_row(p) for p in table.prices])


class UsageRepositories(RepositoryBundle):
    model_calls = bound(SqlAlchemyModelCallRepository)
    model_prices = bound(SqlAlchemyModelPriceRepository)
