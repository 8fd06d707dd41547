"""On SQLite and PostgreSQL, when a question's words are in more chunks than a search
ranks (each engine's ``CANDIDATE_BUDGET``), its rarer words find the candidates and all its
words rank them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.knowledge import fts5, lexical
from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWork
from talia_core.knowledge.model import Chunk, Document, DocumentKind
from talia_core.shared.ids import new_id
from tests.conftest import Engines
from tests.databases import empty_tables

QUESTION = "¿Cuál es el precio del envío a Arequipa?"
RARE_AND_COMMON = "Arequipa: precio de envío"
RARE_ONLY = "Arequipa: horario de atención"


BUDGETS = {"sqlite": fts5.CANDIDATE_BUDGET, "postgresql": lexical.CANDIDATE_BUDGET}


@pytest.fixture(params=sorted(BUDGETS))
async def engine(engines: Engines, request: pytest.FixtureRequest) -> AsyncIterator[AsyncEngine]:
    found = await engines.of(request, request.param)
    yield found
    await empty_tables(found)


async def _store(engine: AsyncEngine, collection: str, texts: Sequence[str]) -> None:
    document = Document.new(
        collection=collection,
        title="Envíos",
        filename="envios.md",
        kind=DocumentKind.MARKDOWN,
        size=1,
        content_hash=new_id(),
        uploaded_by=new_id(),
        at=datetime(2026, 3, 1, tzinfo=UTC),
    )
    chunks = [Chunk(new_id(), document.id, collection, n, t, "", 1) for n, t in enumerate(texts)]
    async with SqlAlchemyUnitOfWork(engine) as uow:
        await uow.documents.add(document)
        await uow.chunks.replace(document.id, chunks)
        await uow.commit()


async def _lexical(engine: AsyncEngine, collections: Sequence[str]) -> list[str]:
    async with SqlAlchemyUnitOfWork(engine, read_only=True) as uow:
        return [p.chunk.text for p in await uow.chunks.lexical(QUESTION, collections, 10)]


async def test_past_the_budget_the_rarer_words_find_and_every_word_ranks(
    engine: AsyncEngine,
) -> None:
    budget = BUDGETS[engine.dialect.name]
    # The common words are in more chunks than the budget, yet in under half of them.
    flood = [f"Precio del envío número {n}" for n in range(budget + 100)]
    others = [f"Horario de la tienda número {n}" for n in range(budget + 200)]
    await _store(engine, "ventas", [*flood, *others, RARE_ONLY])
    await _store(engine, "faq", [RARE_AND_COMMON])

    everywhere = await _lexical(engine, ["faq", "ventas"])
    in_sales = await _lexical(engine, ["ventas"])
    in_the_faq = await _lexical(engine, ["faq"])

    assert everywhere == [RARE_AND_COMMON, RARE_ONLY]
    assert in_sales == [RARE_ONLY]
    assert in_the_faq == [RARE_AND_COMMON]
