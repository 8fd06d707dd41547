"""Tables, row mappers and repositories of the catalog context.

Plans and templates hold money (two columns, see ``mapping``), which the generic attrs
mappers do not handle, so they map explicitly.

In a writing unit of work ``get`` locks the row it reads (``FOR UPDATE``) until the
transaction ends: it is read to be changed and written back whole, so a change committed
in between must not be undone from a stale copy. SQLite, which serialises writers anyway,
ignores the clause; reading units lock nothing.
"""

from __future__ import annotations

from typing import Any

import attrs
import sqlalchemy as sa

from adapters.persistence.bundle import RepositoryBundle, bound
from adapters.persistence.connection import Transaction
from adapters.persistence.mapping import money, money_columns, money_values
from adapters.persistence.metadata import UtcDateTime, id_column, metadata
from talia_core.catalog.model import Plan, PlanAllowances, Template
from talia_core.shared.errors import NotFound

plans = sa.Table(
    "plans",
    metadata,
    id_column(primary_key=True),
    sa.Column("name", sa.String(120), nullable=False),
    *money_columns("price"),
    sa.Column("features", sa.JSON, nullable=False),
    # NULL: a plan made before allowances existed, which has the defaults.
    sa.Column("allowances", sa.JSON(none_as_null=True)),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

templates = sa.Table(
    "templates",
    metadata,
    id_column(primary_key=True),
    sa.Column("name", sa.String(120), nullable=False),
    sa.Column("category", sa.String(60), nullable=False, index=True),
    *money_columns("price"),
    sa.Column("preview_url", sa.String(500)),
    # NULL: the invitations' default field schema.
    sa.Column("fields", sa.JSON(none_as_null=True)),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)


def _plan_values(plan: Plan) -> dict[str, Any]:
    return {
        "name": plan.name,
        **money_values("price", plan.price),
        "features": list(plan.features),
        "allowances": attrs.asdict(plan.allowances),
        "active": plan.active,
        "updated_at": plan.updated_at,
    }


def _plan(row: sa.RowMapping) -> Plan:
    return Plan(
        id=row["id"],
        name=row["name"],
        price=money(row, "price"),
        features=list(row["features"]),
        allowances=PlanAllowances(**(row["allowances"] or {})),
        active=row["active"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _template_values(template: Template) -> dict[str, Any]:
    return {
        "name": template.name,
        "category": template.category,
        **money_values("price", template.price),
        "preview_url": template.preview_url,
        "fields": template.fields,
        "active": template.active,
        "updated_at": template.updated_at,
    }


def _template(row: sa.RowMapping) -> Template:
    return Template(
        id=row["id"],
        name=row["name"],
        category=row["category"],
        price=money(row, "price"),
        preview_url=row["preview_url"],
        fields=row["fields"],
        active=row["active"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


class SqlAlchemyPlanRepository:
    def __init__(self, tx: Transaction, *, lock: bool = False) -> None:
        self._tx = tx
        self._lock = lock

    async def add(self, plan: Plan) -> None:
        await self._tx.execute(
            plans.insert().values(id=plan.id, created_at=plan.created_at, **_plan_values(plan))
        )

    async def get(self, plan_id: str) -> Plan:
        query = plans.select().where(plans.c.id == plan_id)
        row = await self._tx.one_or_none(query.with_for_update() if self._lock else query)
        if row is None:
            raise NotFound("plan", plan_id)
        return _plan(row._mapping)

    async def update(self, plan: Plan) -> None:
        await self._tx.execute(
            plans.update().where(plans.c.id == plan.id).values(_plan_values(plan))
        )

    async def remove(self, plan_id: str) -> None:
        result = await self._tx.execute(plans.delete().where(plans.c.id == plan_id))
        if result.rowcount == 0:
            raise NotFound("plan", plan_id)

    async def all(self, *, active_only: bool) -> list[Plan]:
        query = plans.select().order_by(plans.c.price_amount, plans.c.name, plans.c.id)
        if active_only:
            query = query.where(plans.c.active.is_(True))
        return [_plan(row._mapping) for row in await self._tx.execute(query)]


class SqlAlchemyTemplateRepository:
    def __init__(self, tx: Transaction, *, lock: bool = False) -> None:
        self._tx = tx
        self._lock = lock

    async def add(self, template: Template) -> None:
        await self._tx.execute(
            templates.insert().values(
                id=template.id, created_at=template.created_at, **_template_values(template)
            )
        )

    async def get(self, template_id: str) -> Template:
        query = templates.select().where(templates.c.id == template_id)
        row = await self._tx.one_or_none(query.with_for_update() if self._lock else query)
        if row is None:
            raise NotFound("template", template_id)
        return _template(row._mapping)

    async def update(self, template: Template) -> None:
        await self._tx.execute(
            templates.update()
            .where(templates.c.id == template.id)
            .values(_template_values(template))
        )

    async def remove(self, template_id: str) -> None:
        result = await self._tx.execute(templates.delete().where(templates.c.id == template_id))
        if result.rowcount == 0:
            raise NotFound("template", template_id)

    async def all(self, *, active_only: bool, category: str | None) -> list[Template]:
        query = templates.select().order_by(
            templates.c.category, templates.c.price_amount, templates.c.name, templates.c.id
        )
        if active_only:
            query = query.where(templates.c.active.is_(True))
        if category is not None:
            query = query.where(templates.c.category == category)
        return [_template(row._mapping) for row in await self._tx.execute(query)]


class CatalogRepositories(RepositoryBundle):
    plans = bound(SqlAlchemyPlanRepository, locks=True)
    templates = bound(SqlAlchemyTemplateRepository, locks=True)
