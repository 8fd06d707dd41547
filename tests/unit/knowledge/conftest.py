"""The knowledge base over one in-memory database, a still clock and small fakes.

``shelf`` holds the admins' ``library``, the worker's ``ingestion`` and the assistants'
``search`` over the same data, with shortcuts: ``await shelf.upload(GUIDE)`` uploads a
document, ``await shelf.run_jobs()`` runs every due job as the worker would.

``PlainExtractor`` reads UTF-8 text as a tiny Markdown: ``#`` headings, blank lines
between paragraphs, ``|`` rows for tables (a ``Tabla:`` line before them is the title), a
form feed between pages. Bytes starting ``%PDF`` are a PDF it cannot read; a text holding
``ILEGIBLE`` is unreadable too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from functools import partial

import attrs
import pytest

from adapters.memory.database import InMemoryDatabase
from adapters.memory.embedder import HashingEmbedder
from adapters.memory.files import InMemoryFileStore
from adapters.memory.unit_of_work import InMemoryUnitOfWork
from talia_core.knowledge.chunking import ChunkingRules
from talia_core.knowledge.errors import Unreadable
from talia_core.knowledge.ingestion import Ingestion
from talia_core.knowledge.library import KnowledgeLibrary, UploadLimits
from talia_core.knowledge.model import Chunk, Document, DocumentKind, Passage, TextRole
from talia_core.knowledge.search import KnowledgeSearch
from talia_core.knowledge.text import Block, ExtractedText
from talia_core.shared.clock import FakeClock
from talia_core.shared.errors import RequestRefused, TaliaError
from talia_core.shared.jobs import JobRunner, JobStatus
from talia_core.shared.pagination import PageRequest

ADMIN = "admin-1"
TIMEOUT_SECONDS = 30.0
MAX_BYTES = 10_000

GUIDE = """# Pagos

Aceptamos tarjetas de crédito, Yape y transferencias bancarias.

## Reembolsos

Devolvemos el dinero dentro de los siete días si la invitación no fue enviada.

# Precios

Tabla: Precios de invitaciones
| Producto | Precio |
| Invitación clásica | S/ 5 |
| Invitación premium | S/ 9 |
"""


class Gate:
    """Holds the first one to pass it until opened (``reached`` tells when it waits); the
    others pass."""

    def __init__(self) -> None:
        self.reached = asyncio.Event()
        self._open = asyncio.Event()

    async def pass_(self) -> None:
        if self.reached.is_set():
            return
        self.reached.set()
        await self._open.wait()

    def open(self) -> None:
        self._open.set()


class PlainExtractor:
    def __init__(self) -> None:
        self.gate: Gate | None = None
        self.failure: Exception | None = None

    async def sniff(self, content: bytes) -> DocumentKind | None:
        if content.startswith(b"%PDF"):
            return DocumentKind.PDF
        try:
            text = content.decode()
        except UnicodeDecodeError:
            return None
        if "\x00" in text:
            return None
        return DocumentKind.MARKDOWN if text.lstrip().startswith("#") else DocumentKind.TEXT

    async def extract(self, content: bytes, kind: DocumentKind) -> ExtractedText:
        if self.gate is not None:
            await self.gate.pass_()
        if self.failure is not None:
            raise self.failure
        if kind is DocumentKind.PDF:
            raise Unreadable("the PDF is encrypted")
        text = content.decode()
        if "ILEGIBLE" in text:
            raise Unreadable("the text is garbled")
        pages = text.split("\f")
        blocks = [block for number, page in enumerate(pages, 1) for block in _blocks(page, number)]
        return ExtractedText(tuple(blocks), pages=len(pages) if len(pages) > 1 else 0)


def _blocks(text: str, page: int) -> list[Block]:
    blocks: list[Block] = []
    title = ""
    rows: list[tuple[str, ...]] = []
    for part in text.split("\n\n"):
        for line in part.strip().splitlines():
            if line.startswith("|"):
                rows.append(tuple(cell.strip() for cell in line.strip("|").split("|")))
                continue
            if rows:
                blocks.append(Block.table(tuple(rows), title, page))
                rows, title = [], ""
            if line.startswith("#"):
                level = len(line) - len(line.lstrip("#"))
                blocks.append(Block.heading(line.lstrip("#").strip(), level, page))
            elif line.startswith("Tabla:"):
                title = line.removeprefix("Tabla:").strip()
            elif line.strip():
                blocks.append(Block.paragraph(line, page))
    if rows:
        blocks.append(Block.table(tuple(rows), title, page))
    return blocks


class GatedEmbedder:
    """The hashing embedder, behind a gate when one is set."""

    def __init__(self, inner: HashingEmbedder) -> None:
        self.inner = inner
        self.gate: Gate | None = None

    @property
    def model(self) -> str:
        return self.inner.model

    async def embed(
        self, texts: Sequence[str], role: TextRole = TextRole.PASSAGE
    ) -> list[list[float]]:
        if self.gate is not None:
            await self.gate.pass_()
        return await self.inner.embed(texts, role)


class RefusingEmbedder(HashingEmbedder):
    """Its provider refuses every request as it is, as one does a model it does not serve."""

    async def embed(
        self, texts: Sequence[str], role: TextRole = TextRole.PASSAGE
    ) -> list[list[float]]:
        raise RequestRefused(self.model, "HTTP 404: the model does not exist")


def retry_twice(attempts: int, error: TaliaError | None) -> float | None:
    return 0.0 if attempts < 3 else None


@attrs.define
class Shelf:
    database: InMemoryDatabase
    clock: FakeClock
    files: InMemoryFileStore
    extractor: PlainExtractor
    embedder: GatedEmbedder | None
    library: KnowledgeLibrary
    ingestion: Ingestion
    search: KnowledgeSearch
    runner: JobRunner

    def uow(self, *, read_only: bool = False) -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork(self.database, read_only=read_only)

    @property
    def hashing(self) -> HashingEmbedder:
        assert self.embedder is not None
        return self.embedder.inner

    async def run_jobs(self) -> int:
        """Run due jobs (and those they add) until none is due."""
        total = 0
        while ran := await self.runner.run_due(100):
            total += ran
        return total

    async def upload(
        self, text: str = GUIDE, *, collection: str = "faq", filename: str = "guia.md"
    ) -> Document:
        uploaded = await self.library.upload(
            collection=collection, filename=filename, content=text.encode(), by=ADMIN
        )
        return uploaded.document

    async def ready(self, text: str = GUIDE, *, collection: str = "faq") -> Document:
        """Upload and ingest."""
        document = await self.upload(text, collection=collection)
        await self.run_jobs()
        return await self.library.get(document.id)

    async def chunks(self, document_id: str | None = None) -> list[Chunk]:
        """Every chunk (of one document), by document and position: no chunk has a vector
        of a model named "none"."""
        async with self.uow(read_only=True) as uow:
            found = await uow.vectors.missing("none", 10_000)
        return [c for c in found if document_id is None or c.document_id == document_id]

    async def missing(self, model: str | None = None) -> list[Chunk]:
        async with self.uow(read_only=True) as uow:
            return await uow.vectors.missing(model or self.hashing.model, 10_000)

    async def job_statuses(self, kind: str) -> list[JobStatus]:
        async with self.uow(read_only=True) as uow:
            jobs = await uow.jobs.find(PageRequest(limit=200), status=None)
        return [job.status for job in jobs.items if job.kind == kind]


def make_shelf(
    *,
    embedder: HashingEmbedder | None = None,
    without_embedder: bool = False,
    timeout_seconds: float = TIMEOUT_SECONDS,
    rules: ChunkingRules | None = None,
) -> Shelf:
    database = InMemoryDatabase()
    clock = FakeClock()
    files = InMemoryFileStore()
    extractor = PlainExtractor()
    gated = None if without_embedder else GatedEmbedder(embedder or HashingEmbedder())
    uow = partial(InMemoryUnitOfWork, database)
    ingestion = Ingestion(
        uow,
        files,
        extractor,
        gated,
        clock,
        rules or ChunkingRules(),
        timeout_seconds,
    )
    return Shelf(
        database=database,
        clock=clock,
        files=files,
        extractor=extractor,
        embedder=gated,
        library=KnowledgeLibrary(uow, files, extractor, clock, UploadLimits(max_bytes=MAX_BYTES)),
        ingestion=ingestion,
        search=KnowledgeSearch(uow, gated),
        runner=JobRunner(uow, clock, ingestion.job_handlers(), retry_twice),
    )


@pytest.fixture
def shelf() -> Shelf:
    return make_shelf()


def sources(passages: Sequence[Passage]) -> list[str]:
    return [p.source for p in passages]
