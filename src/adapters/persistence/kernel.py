"""Tables and repositories of the shared kernel: sequences and the outbox."""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from adapters.persistence.bundle import RepositoryBundle, bound, repository
from adapters.persistence.connection import Transaction
from adapters.persistence.jobs import SqlAlchemyJobStore
from adapters.persistence.metadata import UtcDateTime, id_column, metadata
from adapters.persistence.prepared import dialect_insert, key, keyed
from talia_core.shared.events import DomainEvent
from talia_core.shared.outbox_relay import relaying

sequences = sa.Table(
    "sequences",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.BigInteger, nullable=False),
)

outbox = sa.Table(
    "outbox",
    metadata,
    id_column(primary_key=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("occurred_at", UtcDateTime, nullable=False),
    sa.Column("data", sa.JSON, nullable=False),
    sa.Column("relayed_at", UtcDateTime, nullable=True),
    # What the relay reads: the events not relayed yet, oldest first.
    sa.Index("ix_outbox_relayed_at_occurred_at_id", "relayed_at", "occurred_at", "id"),
)


@functools.cache
def _next_value(dialect: str) -> Any:
    """The upsert that takes a sequence's next value (1 for a new one). It returns the value,
    except on MySQL and MariaDB, which read it back with ``_CURRENT``."""
    upsert = dialect_insert(dialect, sequences)
    if dialect in ("mysql", "mariadb"):
        return upsert.on_duplicate_key_update(value=sequences.c.value + 1)
    return upsert.on_conflict_do_update(
        index_elements=[sequences.c.name], set_={"value": sequences.c.value + 1}
    ).returning(sequences.c.value)


_CURRENT = sa.select(sequences.c.value).where(sequences.c.name == key(sequences.c.name))
_OUTBOX_INSERT = outbox.insert()


class SqlAlchemySequences:
    """An upsert that increments the row; the row lock serialises concurrent takers."""

    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def next_value(self, name: str) -> int:
        taken = await self._tx.execute(_next_value(self._tx.dialect), {"name": name, "value": 1})
        if self._tx.dialect in ("mysql", "mariadb"):
            taken = await self._tx.execute(_CURRENT, keyed(name=name))
        return int(taken.scalar_one())


class SqlAlchemyOutbox:
    """``unrelayed`` locks what it returns with ``FOR UPDATE SKIP LOCKED`` in a writing unit
    on PostgreSQL and MariaDB, read in the order of ``ix_outbox_relayed_at_occurred_at_id``
    (so MariaDB stops locking after ``limit`` rows): two relays at once take different
    events, neither waiting for the other. SQLite ignores the clause; its writers run one at
    a time anyway."""

    def __init__(self, tx: Transaction, jobs: SqlAlchemyJobStore, *, lock: bool) -> None:
        self._tx = tx
        self._jobs = jobs
        self._lock = lock

    async def add(self, event: DomainEvent) -> None:
        row = {"id": event.id, "name": event.name, "occurred_at": event.occurred_at}
        await self._tx.execute(_OUTBOX_INSERT, {**row, "data": event.data})
        await self._jobs.schedule(relaying(event), sooner=True)

    async def unrelayed(self, limit: int) -> Sequence[DomainEvent]:
        query = (
            sa.select(outbox.c.id, outbox.c.name, outbox.c.occurred_at, outbox.c.data)
            .where(outbox.c.relayed_at.is_(None))
            .order_by(outbox.c.occurred_at, outbox.c.id)
            .limit(limit)
        )
        if self._lock:
            query = query.with_for_update(skip_locked=True)
        return [DomainEvent(**row) for row in (await self._tx.execute(query)).mappings()]

    async def mark_relayed(self, event_ids: Collection[str], at: datetime) -> None:
        if event_ids:
            marked = outbox.update().where(outbox.c.id.in_(list(event_ids)))
            await self._tx.execute(marked.values(relayed_at=at))


class KernelRepositories(RepositoryBundle):
    """What every context's unit of work carries: counters and the outbox."""

    sequences = bound(SqlAlchemySequences)
    outbox = repository(lambda tx, lock: SqlAlchemyOutbox(tx, SqlAlchemyJobStore(tx), lock=lock))
