"""The speed half of ``benchmarks.retrieval``: a knowledge base grown to a scale with
synthetic documents written straight through the repositories, and search timed on it
against the bare round trip of the same engine."""

from __future__ import annotations

import itertools
import math
import random
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

import attrs
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.knowledge.tables import knowledge_chunks
from entrypoints.container import Container
from talia_core.knowledge.model import Chunk, Document, DocumentKind, DocumentStatus, TextRole
from talia_core.knowledge.ports import Embedder, KnowledgeUnitOfWork
from talia_core.knowledge.search import KnowledgeSearch
from talia_core.shared.ids import new_id
from talia_core.shared.ports import UnitOfWorkFactory

LIMIT = 10
CHUNKS_PER_DOCUMENT = 25
DOCUMENTS_PER_TRANSACTION = 40
WARMUP = 5
TARGET_P99_MS = 50.0


@attrs.frozen
class Timings:
    """Latencies of one row; fewer than ``wanted`` when it ran out of its budget."""

    label: str
    latencies_ms: list[float]
    wanted: int
    seconds: float

    @property
    def complete(self) -> bool:
        return len(self.latencies_ms) == self.wanted

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]

    def row(self) -> str:
        p50, p99 = self.percentile(0.5), self.percentile(0.99)
        if not self.complete:
            done = len(self.latencies_ms)
            return (
                f"| {self.label} | too slow: {done} of {self.wanted} in {self.seconds:.0f} s "
                f"| {p50:,.1f} | {p99:,.1f} |"
            )
        return f"| {self.label} | {self.wanted} | {p50:,.2f} | {p99:,.2f} |"


def sentences_of(texts: Sequence[str]) -> list[str]:
    """The sentences and table lines of ``texts``, the longer ones."""
    found = []
    for text in texts:
        for line in text.splitlines():
            found += [s for s in re.split(r"(?<=[.!?])\s+", line) if len(s) > 20]
    return found


def synthetic_text(sentences: Sequence[str], rng: random.Random) -> str:
    """A passage of 300 to 1 100 characters of sentences, their numbers changed."""
    target, parts, size = rng.randint(300, 1100), [], 0
    while size < target:
        sentence = re.sub(r"\d+", lambda _: str(rng.randint(1, 999)), rng.choice(sentences))
        parts.append(sentence)
        size += len(sentence) + 1
    return " ".join(parts)


def unit_vector(dimensions: int, rng: random.Random) -> list[float]:
    values = [rng.gauss(0.0, 1.0) for _ in range(dimensions)]
    norm = math.sqrt(sum(v * v for v in values))
    return [v / norm for v in values]


def synthetic_document(collection: str, chunk_count: int) -> Document:
    """A ready document of ``chunk_count`` chunks, as ingestion would leave it."""
    document_id = new_id()
    document = Document.new(
        collection=collection,
        title=f"Documento {document_id[-6:]}",
        filename=f"{document_id}.txt",
        kind=DocumentKind.TEXT,
        size=chunk_count * 700,
        content_hash=document_id.ljust(64, "0")[:64],
        uploaded_by=document_id,
        at=datetime.now(UTC),
    )
    return attrs.evolve(document, status=DocumentStatus.READY, chunk_count=chunk_count)


async def grow(
    container: Container,
    target: int,
    collections: Sequence[str],
    sentences: Sequence[str],
    vectors: tuple[str, int] | None,
) -> int:
    """Synthetic documents, each in the next of ``collections`` in turn, until the database
    holds ``target`` chunks; how many it holds. With ``vectors`` (a model and its
    dimension) each chunk gets a random unit vector of that model."""
    uow: UnitOfWorkFactory[KnowledgeUnitOfWork] = container.gateways.unit_of_work
    async with uow(read_only=True) as unit:
        count = await unit.chunks.count()
    rng = random.Random(count)
    turns = itertools.cycle(collections)
    while count < target:
        async with uow() as unit:
            for _ in range(DOCUMENTS_PER_TRANSACTION):
                size = min(CHUNKS_PER_DOCUMENT, target - count)
                if size <= 0:
                    break
                document = synthetic_document(next(turns), size)
                chunks = [
                    Chunk(
                        id=new_id(),
                        document_id=document.id,
                        collection=document.collection,
                        position=position,
                        text=synthetic_text(sentences, rng),
                        section=f"Sección {position // 5 + 1}",
                    )
                    for position in range(size)
                ]
                await unit.documents.add(document)
                await unit.chunks.replace(document.id, chunks)
                if vectors is not None:
                    model, dimensions = vectors
                    random_vectors = {c.id: unit_vector(dimensions, rng) for c in chunks}
                    await unit.vectors.put(model, random_vectors)
                count += size
            await unit.commit()
    return count


async def held_by(engine: AsyncEngine, collection: str) -> int:
    """How many chunks ``collection`` holds (read below the repositories, which do not say)."""
    counted = sa.select(sa.func.count()).where(knowledge_chunks.c.collection == collection)
    async with engine.connect() as connection:
        return int((await connection.execute(counted)).scalar_one())


async def analyze(engine: AsyncEngine) -> None:
    """PostgreSQL's planner statistics after the bulk load, as autovacuum soon gathers them."""
    if engine.dialect.name == "postgresql":
        async with engine.connect() as connection:
            await connection.execute(sa.text("ANALYZE"))
            await connection.commit()


async def timed(
    label: str, count: int, budget: float, one: Callable[[int], Awaitable[object]]
) -> Timings:
    """``one(0 .. count-1)`` one after the other, after a warm-up, until ``budget`` seconds
    have gone."""
    for number in range(WARMUP):
        await one(number)
    latencies: list[float] = []
    started = time.perf_counter()
    for number in range(count):
        begun = time.perf_counter()
        await one(number)
        latencies.append((time.perf_counter() - begun) * 1000)
        if time.perf_counter() - started > budget:
            break
    return Timings(label, latencies, count, time.perf_counter() - started)


async def speed(
    container: Container,
    embedder: Embedder | None,
    queries: Sequence[str],
    collections: tuple[str, list[str]],
    searches: int,
    budget: float,
) -> list[Timings]:
    """The bare round trip, the query's embedding, and searches (lexical, and hybrid with
    an embedder) of one collection and of all, ``collections`` being (one, all)."""
    engine: AsyncEngine = container.core.engine()
    lexical = KnowledgeSearch(container.gateways.unit_of_work, None)
    hybrid = container.use_cases.knowledge_search()

    async def select_one(_: int) -> None:
        async with engine.connect() as connection:
            await connection.execute(sa.text("SELECT 1"))

    def asking(search: KnowledgeSearch, names: list[str]) -> Callable[[int], Awaitable[object]]:
        return lambda n: search.search(queries[n % len(queries)], names, LIMIT)

    rows = [await timed("bare: `SELECT 1` through the same engine", searches, budget, select_one)]
    if embedder is not None:
        rows.append(
            await timed(
                f"the query's embedding alone ({embedder.model})",
                searches,
                budget,
                lambda n: embedder.embed([queries[n % len(queries)]], TextRole.QUERY),
            )
        )
    one, everywhere = collections
    plans = [("lexical", lexical)] + ([("hybrid", hybrid)] if embedder is not None else [])
    for mode, search in plans:
        for names, where in (
            ([one], "1 collection"),
            (everywhere, f"{len(everywhere)} collections"),
        ):
            label = f"{mode}, {where}"
            rows.append(await timed(label, searches, budget, asking(search, names)))
    return rows
