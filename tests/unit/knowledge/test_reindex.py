"""Re-embedding after the embedder changes: missing vectors rebuilt, other models forgotten,
searches answering all along."""

from __future__ import annotations

import asyncio
from functools import partial

import pytest

from adapters.memory.embedder import HashingEmbedder
from adapters.memory.unit_of_work import InMemoryUnitOfWork
from talia_core.knowledge.chunking import ChunkingRules
from talia_core.knowledge.ingestion import Ingestion
from talia_core.knowledge.search import KnowledgeSearch
from talia_core.shared.errors import ExternalServiceUnavailable, RuleViolated
from tests.unit.knowledge.conftest import TIMEOUT_SECONDS, Gate, GatedEmbedder, Shelf, make_shelf

THREE_SECTIONS = "# Pagos\n\nCon Yape.\n\n# Envíos\n\nPor Olva.\n\n# Horario\n\nDe lunes a viernes."


def with_embedder(
    shelf: Shelf, embedder: GatedEmbedder | None
) -> tuple[Ingestion, KnowledgeSearch]:
    """The worker and the search as they are wired after the embedder changed."""
    uow = partial(InMemoryUnitOfWork, shelf.database)
    ingestion = Ingestion(
        uow, shelf.files, shelf.extractor, embedder, shelf.clock, ChunkingRules(), TIMEOUT_SECONDS
    )
    return ingestion, KnowledgeSearch(uow, embedder)


async def test_a_new_model_gets_every_vector_and_the_old_model_is_forgotten(shelf: Shelf) -> None:
    document = await shelf.ready(THREE_SECTIONS)
    new = HashingEmbedder(dimensions=32)
    ingestion, _ = with_embedder(shelf, GatedEmbedder(new))
    heard: list[int] = []

    done = await ingestion.reindex(batch_size=2, progress=heard.append)

    assert (done.embedded, done.forgotten) == (3, 3)
    assert heard == [2, 3]
    assert [len(batch) for batch in new.batches] == [2, 1]
    assert await shelf.missing(new.model) == []
    assert len(await shelf.missing(shelf.hashing.model)) == document.chunk_count == 3


async def test_a_reindex_with_nothing_missing_embeds_nothing(shelf: Shelf) -> None:
    await shelf.ready(THREE_SECTIONS)

    done = await shelf.ingestion.reindex()

    assert (done.embedded, done.forgotten) == (0, 0)


async def test_searches_answer_while_a_reindex_runs() -> None:
    shelf = make_shelf()
    await shelf.ready(THREE_SECTIONS)
    gated = GatedEmbedder(HashingEmbedder(dimensions=32))
    ingestion, search = with_embedder(shelf, gated)
    gated.gate = halfway = Gate()

    reindexing = asyncio.create_task(ingestion.reindex(batch_size=1))
    await halfway.reached.wait()
    during = await search.search("olva", ["faq"])
    halfway.open()
    done = await reindexing

    assert [p.chunk.section for p in during] == ["Envíos"]
    assert done.embedded == 3
    after = await search.search("olva", ["faq"])
    assert after[0].chunk.section == "Envíos"


async def test_a_reindex_stops_when_the_embedder_is_down_and_goes_on_from_there_later(
    shelf: Shelf,
) -> None:
    await shelf.ready(THREE_SECTIONS)
    new = HashingEmbedder(dimensions=32)
    ingestion, _ = with_embedder(shelf, GatedEmbedder(new))
    new.fail_next()

    with pytest.raises(ExternalServiceUnavailable):
        await ingestion.reindex(batch_size=2)

    assert len(await shelf.missing(new.model)) == 3
    done = await ingestion.reindex(batch_size=2)
    assert (done.embedded, done.forgotten) == (3, 3)


async def test_a_reindex_needs_an_embedder() -> None:
    shelf = make_shelf(without_embedder=True)

    with pytest.raises(RuleViolated) as refused:
        await shelf.ingestion.reindex()

    assert refused.value.fields == {"embedder": "none"}


async def test_a_reindex_batch_is_at_least_one_chunk(shelf: Shelf) -> None:
    with pytest.raises(RuleViolated) as refused:
        await shelf.ingestion.reindex(batch_size=0)

    assert refused.value.fields == {"batch_size": "out of range"}
