"""Documents: one per content hash in a collection, the database's unique constraint says."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from adapters.persistence.connection import Transaction, locked
from adapters.persistence.knowledge import generations
from adapters.persistence.knowledge.tables import knowledge_documents
from adapters.persistence.mapping import as_row, from_row
from talia_core.knowledge.model import Document, DocumentStatus
from talia_core.shared.errors import NotFound
from talia_core.shared.pagination import Page, PageRequest

_SETTLED = (DocumentStatus.READY.value, DocumentStatus.FAILED.value)


def _document(row: sa.RowMapping) -> Document:
    return from_row(Document, row)


class SqlAlchemyDocumentRepository:
    def __init__(self, tx: Transaction, *, lock: bool = False) -> None:
        self._tx = tx
        self._lock = lock

    async def add(self, document: Document) -> None:
        await self._tx.execute(knowledge_documents.insert().values(as_row(document)))

    async def get(self, document_id: str) -> Document:
        query = knowledge_documents.select().where(knowledge_documents.c.id == document_id)
        row = await self._tx.one_or_none(locked(query, self._lock))
        if row is None:
            raise NotFound("document", document_id)
        return _document(row._mapping)

    async def by_hash(self, collection: str, content_hash: str) -> Document | None:
        row = await self._tx.one_or_none(
            knowledge_documents.select().where(
                knowledge_documents.c.collection == collection,
                knowledge_documents.c.content_hash == content_hash,
            )
        )
        return None if row is None else _document(row._mapping)

    async def update(self, document: Document) -> None:
        values = as_row(document)
        del values["id"]
        await self._tx.execute(
            knowledge_documents.update()
            .where(knowledge_documents.c.id == document.id)
            .values(values)
        )

    async def remove(self, document_id: str) -> None:
        """Its chunks and their vectors go with it (foreign keys cascade)."""
        await generations.advance(self._tx, await generations.of_document(self._tx, document_id))
        await self._tx.execute(
            knowledge_documents.delete().where(knowledge_documents.c.id == document_id)
        )

    async def find(self, page: PageRequest, collection: str | None = None) -> Page[Document]:
        query = knowledge_documents.select()
        if collection is not None:
            query = query.where(knowledge_documents.c.collection == collection)
        order = [knowledge_documents.c.created_at.desc(), knowledge_documents.c.id.desc()]
        return await self._tx.page(query, page, order, _document)

    async def collections(self) -> list[str]:
        column = knowledge_documents.c.collection
        found = await self._tx.execute(sa.select(column).distinct().order_by(column))
        return list(found.scalars())

    async def unsettled_since(self, before: datetime, limit: int) -> list[Document]:
        query = (
            knowledge_documents.select()
            .where(
                knowledge_documents.c.status.not_in(_SETTLED),
                knowledge_documents.c.updated_at < before,
            )
            .order_by(knowledge_documents.c.updated_at, knowledge_documents.c.id)
            .limit(limit)
        )
        return [_document(row._mapping) for row in await self._tx.execute(query)]
