"""Chunks: replaced a document at a time, searched by the database's full-text engine."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from adapters import spanish
from adapters.persistence.connection import Transaction
from adapters.persistence.knowledge import fts5, generations, lexical
from adapters.persistence.knowledge.tables import knowledge_chunks
from adapters.persistence.mapping import as_row, from_row
from talia_core.knowledge.model import Chunk, Passage


def _passage(row: sa.RowMapping) -> Passage:
    return Passage(chunk=from_row(Chunk, row), title=row["title"], score=float(row["score"]))


class SqlAlchemyChunkRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def replace(self, document_id: str, chunks: Sequence[Chunk]) -> None:
        """One transaction's delete and insert: a reader sees the old chunks or the new.
        The old chunks' vectors go with them (foreign keys cascade)."""
        held = await generations.of_document(self._tx, document_id)
        await generations.advance(self._tx, held | {c.collection for c in chunks})
        await self._delete(document_id)
        if chunks:
            rows = [{**as_row(c), "terms": spanish.terms(f"{c.section}\n{c.text}")} for c in chunks]
            await self._tx.execute(knowledge_chunks.insert(), rows)

    async def remove(self, document_id: str) -> None:
        await generations.advance(self._tx, await generations.of_document(self._tx, document_id))
        await self._delete(document_id)

    async def _delete(self, document_id: str) -> None:
        await self._tx.execute(
            knowledge_chunks.delete().where(knowledge_chunks.c.document_id == document_id)
        )

    async def lexical(self, query: str, collections: Sequence[str], limit: int) -> list[Passage]:
        if self._tx.dialect == "postgresql":  # Spanish stems are PostgreSQL's own work
            terms = spanish.words(query)
        else:
            terms = spanish.query_terms(query)
        if not terms or not collections:
            return []
        if self._tx.dialect == "sqlite":
            statement = await fts5.statement(self._tx, terms, collections, limit)
        elif self._tx.dialect == "postgresql":
            statement = await lexical.postgresql_statement(self._tx, terms, collections, limit)
        else:
            statement = lexical.mysql_statement(terms, collections, limit)
        return [_passage(row._mapping) for row in await self._tx.execute(statement)]

    async def count(self) -> int:
        counted = sa.select(sa.func.count()).select_from(knowledge_chunks)
        return int((await self._tx.execute(counted)).scalar_one())
