"""Invitations on SQLite, PostgreSQL and MySQL/MariaDB, and the catalog terms they read.

Making an invitation is an insert a concurrent maker cannot double: the unique key on
(order, order item) settles the race and the loser's insert is ignored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from adapters.persistence.catalog import plans, templates
from adapters.persistence.connection import Transaction, locked
from adapters.persistence.invitations.tables import invitations
from talia_core.catalog.model import PlanAllowances
from talia_core.invitations.fields import WEDDING_SCHEMA, FieldSchema
from talia_core.invitations.model import Allowances, Event, Invitation, InvitationStatus
from talia_core.shared.errors import Conflict, NotFound
from talia_core.shared.pagination import Page, PageRequest


def _event_json(event: Event) -> dict[str, Any]:
    values = attrs.asdict(event)
    for name in ("starts_at", "ends_at"):
        values[name] = values[name].isoformat() if values[name] is not None else None
    return values


def _event(values: dict[str, Any]) -> Event:
    ends_at = values.get("ends_at")
    return Event(
        **{
            **values,
            "starts_at": datetime.fromisoformat(values["starts_at"]),
            "ends_at": datetime.fromisoformat(ends_at) if ends_at else None,
        }
    )


def _row(invitation: Invitation) -> dict[str, Any]:
    values = attrs.asdict(invitation, recurse=False)
    values["status"] = invitation.status.value
    values["allowances"] = attrs.asdict(invitation.allowances)
    values["events"] = [_event_json(event) for event in invitation.events]
    return values


def _invitation(row: sa.RowMapping) -> Invitation:
    values = {field.name: row[field.name] for field in attrs.fields(Invitation)}
    return Invitation(
        **{
            **values,
            "status": InvitationStatus(values["status"]),
            "allowances": Allowances(**values["allowances"]),
            "data": dict(values["data"]),
            "events": [_event(event) for event in values["events"]],
        }
    )


class SqlAlchemyInvitationRepository:
    def __init__(self, tx: Transaction, *, lock: bool = False) -> None:
        self._tx = tx
        self._lock = lock

    async def add_if_absent(self, invitation: Invitation) -> bool:
        row = _row(invitation)
        if self._tx.dialect in ("mysql", "mariadb"):
            # IGNORE would also hide a bad value: only the duplicate key is let through.
            try:
                await self._tx.execute(invitations.insert().values(row))
            except Conflict:
                taken = invitations.select().where(
                    invitations.c.order_id == invitation.order_id,
                    invitations.c.order_item == invitation.order_item,
                )
                if await self._tx.one_or_none(taken.with_for_update(read=True)) is None:
                    raise  # its id clashed, not its order item
                return False
            return True
        insert = postgresql.insert if self._tx.dialect == "postgresql" else sqlite.insert
        statement = (
            insert(invitations)
            .values(row)
            .on_conflict_do_nothing(
                index_elements=[invitations.c.order_id, invitations.c.order_item]
            )
        )
        return (await self._tx.execute(statement)).rowcount == 1

    async def get(self, invitation_id: str) -> Invitation:
        query = locked(invitations.select().where(invitations.c.id == invitation_id), self._lock)
        row = await self._tx.one_or_none(query)
        if row is None:
            raise NotFound("invitation", invitation_id)
        return _invitation(row._mapping)

    async def update(self, invitation: Invitation) -> None:
        values = _row(invitation)
        for fixed in ("id", "owner_id", "order_id", "order_item", "created_at"):
            values.pop(fixed)
        try:
            await self._tx.execute(
                invitations.update().where(invitations.c.id == invitation.id).values(values)
            )
        except Conflict:
            raise Conflict(f"the slug {invitation.slug!r} is taken") from None

    async def remove(self, invitation_id: str) -> None:
        result = await self._tx.execute(
            invitations.delete().where(invitations.c.id == invitation_id)
        )
        if result.rowcount == 0:
            raise NotFound("invitation", invitation_id)

    async def find(self, page: PageRequest, *, owner_id: str | None) -> Page[Invitation]:
        query = invitations.select()
        if owner_id is not None:
            query = query.where(invitations.c.owner_id == owner_id)
        order = [invitations.c.created_at.desc(), invitations.c.id.desc()]
        return await self._tx.page(query, page, order, _invitation)

    async def of_order(self, order_id: str) -> list[Invitation]:
        query = (
            invitations.select()
            .where(invitations.c.order_id == order_id)
            .order_by(invitations.c.created_at, invitations.c.id)
        )
        return [
            _invitation(row._mapping) for row in await self._tx.execute(locked(query, self._lock))
        ]

    async def of_slug(self, slug: str) -> Invitation | None:
        row = await self._tx.one_or_none(invitations.select().where(invitations.c.slug == slug))
        return _invitation(row._mapping) if row is not None else None


class SqlAlchemyInvitationTerms:
    """Reads the catalog's tables: the terms are the catalog's, as it holds them now."""

    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def schema_of(self, template_id: str | None) -> FieldSchema:
        fields = None
        if template_id is not None:
            query = sa.select(templates.c.fields).where(templates.c.id == template_id)
            fields = (await self._tx.execute(query)).scalar_one_or_none()
        return FieldSchema.parse(fields or WEDDING_SCHEMA)

    async def allowances_of(self, plan_id: str | None) -> Allowances:
        if plan_id is None:
            return Allowances()
        query = sa.select(plans.c.allowances).where(plans.c.id == plan_id)
        stated = (await self._tx.execute(query)).scalar_one_or_none()
        # Read through the catalog's own type: a plan without allowances has its defaults.
        return Allowances(**attrs.asdict(PlanAllowances(**(stated or {}))))
