"""Each process ranks vectors from its own copy of them; a write made by another process
(here, through another engine on the same database) is seen by its next search."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWork
from talia_core.knowledge.model import Chunk, Document, DocumentKind
from talia_core.shared.ids import new_id
from tests.databases import another_engine

MODEL = "all-minilm-l6-v2"


@pytest.fixture
async def other(engine: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    """Another engine on the same database, as another process would open."""
    second = another_engine(engine)
    yield second
    await second.dispose()


async def _store(engine: AsyncEngine, text: str, vector: list[float]) -> Document:
    document = Document.new(
        collection="faq",
        title=text,
        filename=f"{text}.md",
        kind=DocumentKind.MARKDOWN,
        size=1,
        content_hash=new_id(),
        uploaded_by=new_id(),
        at=datetime(2026, 3, 1, tzinfo=UTC),
    )
    chunk = Chunk(new_id(), document.id, "faq", 0, text, "", 1)
    async with SqlAlchemyUnitOfWork(engine) as uow:
        await uow.documents.add(document)
        await uow.chunks.replace(document.id, [chunk])
        await uow.vectors.put(MODEL, {chunk.id: vector})
        await uow.commit()
    return document


async def _nearest(engine: AsyncEngine) -> list[str]:
    async with SqlAlchemyUnitOfWork(engine, read_only=True) as uow:
        return [p.chunk.text for p in await uow.vectors.nearest(MODEL, [1.0, 0.0], ["faq"], 5)]


async def test_what_another_process_writes_is_seen_by_the_next_search(
    engine: AsyncEngine, other: AsyncEngine
) -> None:
    await _store(engine, "uno", [0.0, 1.0])
    assert await _nearest(engine) == ["uno"]

    added = await _store(other, "dos", [1.0, 0.0])
    after_adding = await _nearest(engine)
    async with SqlAlchemyUnitOfWork(other) as uow:
        await uow.documents.remove(added.id)
        await uow.commit()
    after_removing = await _nearest(engine)

    assert after_adding == ["dos", "uno"]
    assert after_removing == ["uno"]
