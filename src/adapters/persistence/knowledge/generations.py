"""Generations of a collection: a token that every write to its chunks or vectors replaces,
in the same transaction as the write.

A process that keeps a copy of a collection's vectors (``matrix``) labels it with the token
it read before reading the vectors; the copy is exactly what the database holds while the
collection's token is still that one. A token is a fresh id, never given twice, so seeing
the same token again means that no write to the collection has committed since, whichever
process made it, across restarts, and even when the tables were emptied and filled again.
A collection without a token (its writes all came before the table, or its row was
deleted) is never taken from a copy.

The repositories replace the tokens of the collections a write touches before writing:
the collections rows are locked in name order, after the document a use case locks first,
so two writers queue rather than deadlock.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite

from adapters.persistence.connection import Transaction
from adapters.persistence.knowledge.tables import knowledge_chunks, knowledge_generations
from talia_core.shared.ids import new_id


async def advance(tx: Transaction, collections: Iterable[str]) -> None:
    """A new token for each of ``collections``."""
    names = sorted(set(collections))
    if not names:
        return
    token = new_id()
    rows = [{"collection": name, "token": token} for name in names]
    if tx.dialect in ("mysql", "mariadb"):
        upsert = mysql.insert(knowledge_generations).values(rows)
        await tx.execute(upsert.on_duplicate_key_update(token=upsert.inserted.token))
        return
    insert = (postgresql if tx.dialect == "postgresql" else sqlite).insert
    statement = insert(knowledge_generations).values(rows)
    await tx.execute(
        statement.on_conflict_do_update(
            index_elements=[knowledge_generations.c.collection],
            set_={"token": statement.excluded.token},
        )
    )


async def advance_every(tx: Transaction) -> None:
    """A new token for every collection."""
    await tx.execute(knowledge_generations.update().values(token=new_id()))


async def of_document(tx: Transaction, document_id: str) -> set[str]:
    """The collections the document's chunks are in."""
    held = sa.select(knowledge_chunks.c.collection).where(
        knowledge_chunks.c.document_id == document_id
    )
    return set((await tx.execute(held.distinct())).scalars())


async def of_chunks(tx: Transaction, chunk_ids: Sequence[str]) -> set[str]:
    """The collections the chunks named are in."""
    held = sa.select(knowledge_chunks.c.collection).where(knowledge_chunks.c.id.in_(chunk_ids))
    return set((await tx.execute(held.distinct())).scalars())


async def current(tx: Transaction, collections: Sequence[str]) -> dict[str, str]:
    """The token of each of ``collections`` that has one."""
    query = sa.select(knowledge_generations.c.collection, knowledge_generations.c.token).where(
        knowledge_generations.c.collection.in_(collections)
    )
    return {row.collection: row.token for row in await tx.execute(query)}
