"""The payment journal: every notification and refund a provider sent, once."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite

from adapters.persistence.commerce.tables import payment_journal
from adapters.persistence.connection import Transaction
from adapters.persistence.mapping import money_values, optional_money
from talia_core.commerce.payment_journal import NotificationOutcome, PaymentEntry
from talia_core.shared.pagination import Page, PageRequest


def _mysql(tx: Transaction) -> bool:
    return tx.dialect in ("mysql", "mariadb")


def _insert(tx: Transaction, table: sa.Table) -> postgresql.Insert | sqlite.Insert:
    """The insert that takes ``ON CONFLICT`` on PostgreSQL and SQLite."""
    if tx.dialect == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def _entry_row(entry: PaymentEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "provider": entry.provider,
        "outcome": entry.outcome.value,
        "received_at": entry.received_at,
        "detail": entry.detail,
        "order_id": entry.order_id,
        "order_reference": entry.order_reference,
        "transaction_id": entry.transaction_id,
        "status": entry.status,
        **money_values("amount", entry.amount),
    }


def _entry(row: sa.RowMapping) -> PaymentEntry:
    return PaymentEntry(
        id=row["id"],
        provider=row["provider"],
        outcome=NotificationOutcome(row["outcome"]),
        received_at=row["received_at"],
        detail=row["detail"],
        order_id=row["order_id"],
        order_reference=row["order_reference"],
        transaction_id=row["transaction_id"],
        status=row["status"],
        amount=optional_money(row, "amount"),
    )


class SqlAlchemyPaymentJournal:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def record(self, entry: PaymentEntry) -> bool:
        values = _entry_row(entry)
        if _mysql(self._tx):
            upsert = mysql.insert(payment_journal).values(values)
            await self._tx.execute(upsert.on_duplicate_key_update(id=payment_journal.c.id))
            mine = sa.select(payment_journal.c.id).where(payment_journal.c.id == entry.id)
            return await self._tx.one_or_none(mine) is not None
        insert = (
            _insert(self._tx, payment_journal)
            .values(values)
            .on_conflict_do_nothing(
                index_elements=[
                    payment_journal.c.provider,
                    payment_journal.c.transaction_id,
                    payment_journal.c.status,
                ]
            )
        )
        return (await self._tx.execute(insert)).rowcount == 1

    async def find(self, page: PageRequest, *, order_id: str | None) -> Page[PaymentEntry]:
        query = payment_journal.select()
        if order_id is not None:
            query = query.where(payment_journal.c.order_id == order_id)
        order = [payment_journal.c.received_at.desc(), payment_journal.c.id.desc()]
        return await self._tx.page(query, page, order, _entry)
