"""Tables and repositories of the shared kernel: sequences and the outbox."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite

from adapters.persistence.bundle import RepositoryBundle
from adapters.persistence.connection import Transaction
from adapters.persistence.metadata import UtcDateTime, id_column, metadata
from talia_core.shared.events import DomainEvent

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
    sa.Column("published_at", UtcDateTime, nullable=True, index=True),
)


class SqlAlchemySequences:
    """An upsert that increments the row; the row lock serialises concurrent takers."""

    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def next_value(self, name: str) -> int:
        values = {"name": name, "value": 1}
        if self._tx.dialect in ("mysql", "mariadb"):
            upsert = mysql.insert(sequences).values(values)
            await self._tx.execute(upsert.on_duplicate_key_update(value=sequences.c.value + 1))
            current = sa.select(sequences.c.value).where(sequences.c.name == name)
            return int((await self._tx.execute(current)).scalar_one())
        insert = (postgresql if self._tx.dialect == "postgresql" else sqlite).insert
        statement = (
            insert(sequences)
            .values(values)
            .on_conflict_do_update(
                index_elements=[sequences.c.name], set_={"value": sequences.c.value + 1}
            )
            .returning(sequences.c.value)
        )
        return int((await self._tx.execute(statement)).scalar_one())


class SqlAlchemyOutbox:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def add(self, event: DomainEvent) -> None:
        await self._tx.execute(
            outbox.insert().values(
                id=event.id, name=event.name, occurred_at=event.occurred_at, data=event.data
            )
        )


class KernelRepositories(RepositoryBundle):
    """What every context's unit of work carries: counters and the outbox."""

    sequences: SqlAlchemySequences
    outbox: SqlAlchemyOutbox

    def bind(self, tx: Transaction, *, lock: bool) -> None:
        self.sequences = SqlAlchemySequences(tx)
        self.outbox = SqlAlchemyOutbox(tx)
        super().bind(tx, lock=lock)
