"""The chunks' Spanish stems (``terms``): written with every chunk, and by the migration that
brings them for the chunks stored before it, so those are found by any form of their words
on every database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence import migrations
from adapters.persistence.knowledge.tables import knowledge_chunks
from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWork
from talia_core.knowledge.model import Document, DocumentKind
from talia_core.shared.ids import new_id
from tests.conftest import Engines
from tests.databases import BACKENDS, empty_tables

TEXTS = ("Hacemos envíos a todo el Perú", "Se piden por escrito")
SECTIONS = ("Envíos", "Cambios y devoluciones")


async def _search(engine: AsyncEngine, query: str) -> list[str]:
    async with SqlAlchemyUnitOfWork(engine, read_only=True) as uow:
        return [p.chunk.text for p in await uow.chunks.lexical(query, ["faq"], 5)]


async def _store_before_terms(engine: AsyncEngine) -> None:
    """Chunks written as revision 0010's tables take them: by plain inserts, without terms."""
    document = Document.new(
        collection="faq",
        title="Guía",
        filename="guia.md",
        kind=DocumentKind.MARKDOWN,
        size=1,
        content_hash=new_id(),
        uploaded_by=new_id(),
        at=datetime(2026, 3, 1, tzinfo=UTC),
    )
    async with SqlAlchemyUnitOfWork(engine) as uow:
        await uow.documents.add(document)
        await uow.commit()
    before = sa.table(
        knowledge_chunks.name,
        *(sa.column(name) for name in ("id", "document_id", "collection", "position")),
        *(sa.column(name) for name in ("section", "page", "text")),
    )
    rows = [
        {
            "id": new_id(),
            "document_id": document.id,
            "collection": "faq",
            "position": n,
            "section": SECTIONS[n],
            "page": None,
            "text": text,
        }
        for n, text in enumerate(TEXTS)
    ]
    async with engine.begin() as connection:
        await connection.execute(before.insert(), rows)


@pytest.mark.parametrize("backend", BACKENDS)
async def test_chunks_stored_before_the_migration_are_found_by_other_forms_of_their_words(
    backend: str, engines: Engines, request: pytest.FixtureRequest
) -> None:
    engine = await engines.of(request, backend)
    await empty_tables(engine)
    await migrations.downgrade(engine, "0010")
    try:
        await _store_before_terms(engine)
    finally:
        await migrations.upgrade(engine)

    try:
        assert await _search(engine, "¿hacen envio a provincias?") == [TEXTS[0]]
        assert await _search(engine, "devolución") == [TEXTS[1]]
        assert await _search(engine, "¿puedo cambiarla?") == [TEXTS[1]]
    finally:
        await empty_tables(engine)
