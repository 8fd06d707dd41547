"""On PostgreSQL with pgvector the vectors are kept, and ranked, as pgvector ``vector``s
too: written at unit length beside their float32 bytes with their chunk's collection, gone
with them, and copied from the bytes by the migration that brings pgvector in."""

from __future__ import annotations

import struct
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence import migrations
from adapters.persistence.knowledge.tables import (
    PGVECTOR_TABLE,
    knowledge_chunks,
    knowledge_vectors,
)
from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWork
from talia_core.knowledge.model import Chunk, Document, DocumentKind
from talia_core.shared.ids import new_id
from tests.conftest import Engines
from tests.databases import PGVECTOR, empty_tables, fresh_engine

MODEL = "all-minilm-l6-v2"


@pytest.fixture
async def pgvector(engines: Engines, request: pytest.FixtureRequest) -> AsyncIterator[AsyncEngine]:
    engine = await engines.of(request, PGVECTOR)
    yield engine
    await empty_tables(engine)


def _document(collection: str) -> Document:
    return Document.new(
        collection=collection,
        title="Guía",
        filename="guia.md",
        kind=DocumentKind.MARKDOWN,
        size=1,
        content_hash=new_id(),
        uploaded_by=new_id(),
        at=datetime(2026, 3, 1, tzinfo=UTC),
    )


async def _store(engine: AsyncEngine, *texts: str, collection: str = "faq") -> list[Chunk]:
    document = _document(collection)
    chunks = [
        Chunk(new_id(), document.id, collection, n, text, "", 1) for n, text in enumerate(texts)
    ]
    async with SqlAlchemyUnitOfWork(engine) as uow:
        await uow.documents.add(document)
        await uow.chunks.replace(document.id, chunks)
        await uow.commit()
    return chunks


async def _store_as_at_0008(engine: AsyncEngine, *texts: str) -> list[Chunk]:
    """Chunks written as the tables of revision 0008 take them: by plain inserts, since the
    repositories of today keep tables that revision does not have."""
    document = _document("faq")
    chunks = [Chunk(new_id(), document.id, "faq", n, text, "", 1) for n, text in enumerate(texts)]
    async with SqlAlchemyUnitOfWork(engine) as uow:
        await uow.documents.add(document)
        await uow.commit()
    async with engine.begin() as connection:
        await connection.execute(
            knowledge_chunks.insert(),
            [
                {
                    "id": chunk.id,
                    "document_id": chunk.document_id,
                    "collection": chunk.collection,
                    "position": chunk.position,
                    "section": chunk.section,
                    "page": chunk.page,
                    "text": chunk.text,
                }
                for chunk in chunks
            ],
        )
    return chunks


def _bytes(vector: tuple[float, ...]) -> bytes:
    return struct.pack(f"<{len(vector)}f", *vector)


async def _embeddings(engine: AsyncEngine) -> dict[tuple[str, str], tuple[str, str]]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            sa.text(f"SELECT chunk_id, model, collection, embedding::text FROM {PGVECTOR_TABLE}")
        )
        return {(row.chunk_id, row.model): (row.collection, row.embedding) for row in rows}


async def test_vectors_are_kept_as_pgvector_vectors_and_go_with_their_bytes(
    pgvector: AsyncEngine,
) -> None:
    first, second = await _store(pgvector, "uno", "dos", collection="ventas")
    async with SqlAlchemyUnitOfWork(pgvector) as uow:
        await uow.vectors.put(MODEL, {first.id: [3.0, 4.0], second.id: [0.0, 1.0]})
        await uow.vectors.put("other-model", {first.id: [1.0]})
        await uow.vectors.put(MODEL, {second.id: [1.0, 0.0]})
        await uow.commit()

    assert await _embeddings(pgvector) == {
        (first.id, MODEL): ("ventas", "[0.6,0.8]"),
        (second.id, MODEL): ("ventas", "[1,0]"),
        (first.id, "other-model"): ("ventas", "[1]"),
    }

    async with SqlAlchemyUnitOfWork(pgvector) as uow:
        await uow.vectors.forget_other_models(MODEL)
        await uow.chunks.replace(first.document_id, [])
        await uow.commit()
    assert await _embeddings(pgvector) == {}


async def test_the_migration_copies_the_vectors_stored_before_it(
    engines: Engines, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    server = await engines.of(request, PGVECTOR)
    async with server.connect() as connection:
        connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(sa.text("DROP DATABASE IF EXISTS talia_before_pgvector"))
        await connection.execute(sa.text("CREATE DATABASE talia_before_pgvector"))
    url = server.url.set(database="talia_before_pgvector").render_as_string(hide_password=False)
    engine = await fresh_engine(PGVECTOR, str(tmp_path), url)
    try:
        await migrations.downgrade(engine, "0008")
        close, far = await _store_as_at_0008(engine, "cerca", "lejos")
        async with engine.begin() as connection:
            await connection.execute(
                knowledge_vectors.insert(),
                [
                    {"chunk_id": chunk.id, "model": MODEL, "dims": 2, "vector": _bytes(vector)}
                    for chunk, vector in ((close, (0.6, 0.8)), (far, (-1.0, 0.0)))
                ],
            )

        await migrations.upgrade(engine)

        async with SqlAlchemyUnitOfWork(engine, read_only=True) as uow:
            found = await uow.vectors.nearest(MODEL, [0.6, 0.8], ["faq"], 5)
        assert set(await _embeddings(engine)) == {(close.id, MODEL), (far.id, MODEL)}
        assert [(p.chunk.id, p.score) for p in found] == [
            (close.id, pytest.approx(1.0)),
            (far.id, pytest.approx(-0.6)),
        ]
    finally:
        await engine.dispose()


@pytest.mark.parametrize("backend", ["postgresql", PGVECTOR])
async def test_the_pgvector_table_exists_exactly_where_the_server_offers_pgvector(
    backend: str, engines: Engines, request: pytest.FixtureRequest
) -> None:
    engine = await engines.of(request, backend)
    async with engine.connect() as connection:
        offered = await connection.scalar(
            sa.text("SELECT count(*) FROM pg_available_extensions WHERE name = 'vector'")
        )
        table = await connection.scalar(sa.select(sa.func.to_regclass(PGVECTOR_TABLE)))

    assert (table is not None) == bool(offered)
