"""Leads and their history on SQLite, PostgreSQL and MySQL/MariaDB.

Opening a lead is an insert that a concurrent opener cannot double: the unique key on
(contact, business line) settles the race and the loser's insert is ignored.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from functools import partial
from typing import Any

import sqlalchemy as sa

from adapters.persistence.connection import Transaction
from adapters.persistence.leads.tables import lead_events, lead_history, leads
from adapters.persistence.mapping import as_row, from_row
from adapters.persistence.prepared import dialect_insert, key, keyed, locking
from talia_core.leads.model import Lead, LeadChange
from talia_core.leads.ports import LeadFilter, LeadOrder
from talia_core.shared.errors import Conflict, NotFound
from talia_core.shared.pagination import Page, PageRequest

_ORDER = {
    LeadOrder.LAST_CONTACT: leads.c.last_contact_at,
    LeadOrder.FIRST_CONTACT: leads.c.first_contact_at,
    LeadOrder.SCORE: leads.c.score,
    LeadOrder.UPDATED: leads.c.updated_at,
}


def _lead(row: sa.RowMapping) -> Lead:
    lead = from_row(Lead, row)
    lead.facts = dict(lead.facts)
    return lead


_GET = locking(leads.select().where(leads.c.id == key(leads.c.id)))
_OF_CONTACT = locking(
    leads.select().where(
        leads.c.contact_id == key(leads.c.contact_id),
        leads.c.business_line == key(leads.c.business_line),
    )
)
_UPDATE = leads.update().where(leads.c.id == key(leads.c.id))
_FIXED = ("id", "contact_id", "business_line", "created_at")
_EVENT_INSERT = lead_events.insert()
_DELIVERED = sa.select(lead_events.c.event_id).where(
    lead_events.c.event_id == key(lead_events.c.event_id)
)
_HISTORY_INSERT = lead_history.insert()


@functools.cache
def _open_once(dialect: str) -> Any:
    """An insert that a lead of the same contact and business line turns into nothing (on
    MySQL and MariaDB, into a no-op update of that lead)."""
    insert = dialect_insert(dialect, leads)
    if dialect in ("mysql", "mariadb"):
        # A plain insert that hits the key holds a shared lock on the row, and two such
        # losers reading it for update deadlock; a no-op update on the duplicate takes
        # the row exclusively instead.
        return insert.on_duplicate_key_update(id=leads.c.id)
    return insert.on_conflict_do_nothing(index_elements=[leads.c.contact_id, leads.c.business_line])


@functools.cache
def _first_delivery(dialect: str) -> Any:
    return dialect_insert(dialect, lead_events).on_conflict_do_nothing()


class SqlAlchemyLeadRepository:
    def __init__(self, tx: Transaction, *, lock: bool = False) -> None:
        self._tx = tx
        self._lock = lock

    async def add_if_absent(self, lead: Lead) -> bool:
        opened = await self._tx.execute(_open_once(self._tx.dialect), as_row(lead))
        if self._tx.dialect in ("mysql", "mariadb"):
            # Who inserted is told by whose id the lead holds.
            of_contact = keyed(contact_id=lead.contact_id, business_line=lead.business_line)
            found = await self._tx.one_or_none(_OF_CONTACT[True], of_contact)
            return found is not None and found.id == lead.id
        return opened.rowcount == 1

    async def get(self, lead_id: str) -> Lead:
        row = await self._tx.one_or_none(_GET[self._lock], keyed(id=lead_id))
        if row is None:
            raise NotFound("lead", lead_id)
        return _lead(row._mapping)

    async def of_contact(self, contact_id: str, business_line: str) -> Lead | None:
        of_contact = keyed(contact_id=contact_id, business_line=business_line)
        row = await self._tx.one_or_none(_OF_CONTACT[self._lock], of_contact)
        return None if row is None else _lead(row._mapping)

    async def update(self, lead: Lead) -> None:
        values = {name: value for name, value in as_row(lead).items() if name not in _FIXED}
        await self._tx.execute(_UPDATE, {**keyed(id=lead.id), **values})

    async def first_delivery(self, event_id: str, at: datetime) -> bool:
        row = {"event_id": event_id, "applied_at": at}
        if self._tx.dialect in ("mysql", "mariadb"):
            # IGNORE would also hide a bad value: only the duplicate key is let through.
            try:
                await self._tx.execute(_EVENT_INSERT, row)
            except Conflict:
                return False
            return True
        return (await self._tx.execute(_first_delivery(self._tx.dialect), row)).rowcount == 1

    async def delivered(self, event_id: str) -> bool:
        return await self._tx.one_or_none(_DELIVERED, keyed(event_id=event_id)) is not None

    async def find(self, page: PageRequest, where: LeadFilter) -> Page[Lead]:
        query = leads.select().where(*_conditions(where))
        order = [_ORDER[where.order].desc(), leads.c.id.desc()]
        return await self._tx.page(query, page, order, _lead)


def _conditions(where: LeadFilter) -> list[sa.ColumnElement[bool]]:
    conditions: list[sa.ColumnElement[bool]] = []
    if where.stage is not None:
        conditions.append(leads.c.stage == where.stage.value)
    if where.min_score is not None:
        conditions.append(leads.c.score >= where.min_score)
    if where.owner_id is not None:
        conditions.append(leads.c.owner_id == where.owner_id)
    if where.channel is not None:
        conditions.append(leads.c.channel == where.channel)
    if where.since is not None:
        conditions.append(leads.c.last_contact_at >= where.since)
    if where.until is not None:
        conditions.append(leads.c.last_contact_at < where.until)
    return conditions


class SqlAlchemyLeadHistory:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def add(self, changes: Sequence[LeadChange]) -> None:
        # One statement per change: the positions follow the order they were made in.
        for change in changes:
            await self._tx.execute(_HISTORY_INSERT, as_row(change))

    async def of(self, lead_id: str, page: PageRequest) -> Page[LeadChange]:
        query = sa.select(*(c for c in lead_history.c if c.name != "position")).where(
            lead_history.c.lead_id == lead_id
        )
        return await self._tx.page(
            query, page, [lead_history.c.position], partial(from_row, LeadChange)
        )
