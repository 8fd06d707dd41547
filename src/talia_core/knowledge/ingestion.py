"""The worker's side of the knowledge base: read documents, index them, keep vectors whole.

Each revision of a document has one ingestion job (``jobs.ingestion``). It moves the
document queued → extracting → indexing → ready, committing each step so that the admins
see it move; a job for a revision that is no longer the document's (replaced, deleted)
does nothing. What trying again cannot mend (``Unreadable``, a broken rule, reading that
takes over ``timeout_seconds``) fails the document with the reason, and a failed document
answers no search.

Vectors are computed outside any transaction; then the chunks, their vectors and
``ready`` are committed together, so a search sees a document's earlier chunks or its new
ones, never a mix. When the embedder is down, refuses the request, or does not answer
within what is left of ``timeout_seconds``, the document becomes ready without vectors
(lexical search finds it at once) and an embedding job, retried by the job runner,
computes them later; when every attempt fails, ``reindex`` does. A document never stays
unsettled: a worker that dies mid-job leaves its job to be claimed again, and a document
whose job ended without settling it (every attempt failed, or its workers died) is failed
by ``fail_stuck``, which every ingestion runs first and a sweep job (``settle``) runs
``timeout_seconds`` after each ingestion starts, and again while documents are still
unsettled.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any

import attrs

from talia_core.knowledge import jobs
from talia_core.knowledge.chunking import ChunkingRules, chunk
from talia_core.knowledge.errors import Unreadable
from talia_core.knowledge.model import Chunk, Document, DocumentStatus
from talia_core.knowledge.ports import Embedder, KnowledgeUnitOfWork, TextExtractor
from talia_core.knowledge.text import ExtractedText
from talia_core.shared.clock import Clock
from talia_core.shared.errors import (
    ExternalServiceUnavailable,
    NotFound,
    RuleViolated,
    TaliaError,
)
from talia_core.shared.files import FileStore
from talia_core.shared.jobs import JobHandler, JobStatus
from talia_core.shared.ports import UnitOfWorkFactory

logger = logging.getLogger("talia.knowledge")

STUCK_REASON = "its ingestion stopped before it finished"
STUCK_BATCH = 100
"""The most documents one ``fail_stuck`` looks at; the next run takes the rest."""


@attrs.frozen
class Reindexed:
    """What a reindex did: chunks given a vector of the current model, vectors of other
    models dropped."""

    embedded: int
    forgotten: int


class Ingestion:
    def __init__(
        self,
        uow: UnitOfWorkFactory[KnowledgeUnitOfWork],
        files: FileStore,
        extractor: TextExtractor,
        embedder: Embedder | None,
        clock: Clock,
        rules: ChunkingRules,
        timeout_seconds: float,
        *,
        embed_batch: int = 64,
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self._uow = uow
        self._files = files
        self._extractor = extractor
        self._embedder = embedder
        self._clock = clock
        self._rules = rules
        self._timeout = timeout_seconds
        self._embed_batch = embed_batch
        self._wake = wake
        self._sweep_delay = timedelta(seconds=timeout_seconds)

    def job_handlers(self) -> dict[str, JobHandler]:
        """What the job runner calls for each kind of job this context records."""

        async def ingest(payload: Mapping[str, Any]) -> None:
            await self.ingest(str(payload["document_id"]), int(payload["revision"]))

        async def embed(payload: Mapping[str, Any]) -> None:
            await self.embed_missing()

        async def settle(payload: Mapping[str, Any]) -> None:
            await self.settle()

        return {jobs.INGEST_JOB: ingest, jobs.EMBED_JOB: embed, jobs.SETTLE_JOB: settle}

    async def ingest(self, document_id: str, revision: int) -> Document | None:
        """Bring ``revision`` of the document to ready or failed; None when it is not the
        document's revision anymore."""
        await self.fail_stuck(self._sweep_delay)
        document = await self._start(document_id, revision)
        if document is None:
            return None
        deadline = asyncio.get_running_loop().time() + self._timeout
        try:
            async with asyncio.timeout_at(deadline):
                extracted = await self._read(document)
            indexing = await self._indexing(document, extracted.pages)
            if indexing is None:
                return None
            chunks = chunk(
                extracted, self._rules, document_id=document.id, collection=document.collection
            )
            if not chunks:
                raise Unreadable("no text could be read from it")
        except (Unreadable, RuleViolated) as error:
            return await self._fail(document, error.detail)
        except TimeoutError:
            return await self._fail(document, f"reading it took over {self._timeout:g} seconds")
        vectors = await self._vectors(chunks, deadline)
        return await self._finish(indexing, chunks, vectors)

    async def fail_stuck(self, older_than: timedelta) -> int:
        """Fail the documents unsettled for over ``older_than`` whose ingestion job is no
        longer waiting or running (its worker stopped, or every attempt failed); how many."""
        before = self._clock.now() - older_than
        async with self._uow(read_only=True) as uow:
            stuck = [
                document
                for document in await uow.documents.unsettled_since(before, STUCK_BATCH)
                if not await _ingesting(uow, document)
            ]
        failed = 0
        for document in stuck:
            async with self._uow() as uow:
                current = await _current(uow, document.id, document.revision)
                if current is None or current.is_settled or current.updated_at >= before:
                    continue
                await self._settle_failed(uow, current, STUCK_REASON)
                await uow.commit()
            failed += 1
        return failed

    async def settle(self) -> int:
        """The sweep job: ``fail_stuck``, then another sweep later while any document is
        still unsettled (its ingestion waiting, retrying or running); how many failed."""
        failed = await self.fail_stuck(self._sweep_delay)
        async with self._uow() as uow:
            now = self._clock.now()
            if await uow.documents.unsettled_since(now, 1):
                await uow.jobs.schedule(jobs.settling(now, self._sweep_delay))
                await uow.commit()
        return failed

    async def reindex(
        self, batch_size: int = 64, progress: Callable[[int], None] | None = None
    ) -> Reindexed:
        """Give every chunk a vector of the current embedder's model, ``batch_size`` at a
        time (``progress`` hears how many so far), then drop other models' vectors. Each
        batch commits on its own: searches answer all along, lexically for chunks still
        waiting for their vector."""
        if self._embedder is None:
            raise RuleViolated(
                "no embedder is configured: lexical search needs no reindex",
                {"embedder": "none"},
            )
        if batch_size < 1:
            raise RuleViolated("batch size must be at least 1", {"batch_size": "out of range"})
        embedded = await self._fill(self._embedder, batch_size, progress)
        async with self._uow() as uow:
            forgotten = await uow.vectors.forget_other_models(self._embedder.model)
            await uow.commit()
        return Reindexed(embedded, forgotten)

    async def embed_missing(self) -> int:
        """The embedding job: vectors for the chunks that have none of the current model;
        how many. ``ExternalServiceUnavailable`` while the embedder is down."""
        if self._embedder is None:
            return 0
        return await self._fill(self._embedder, self._embed_batch, None)

    async def _start(self, document_id: str, revision: int) -> Document | None:
        """The document, extracting, with a sweep due after this attempt's time is up in
        case it ends without settling the document."""
        async with self._uow() as uow:
            document = await _current(uow, document_id, revision)
            if document is None or document.is_settled:
                return None
            now = self._clock.now()
            if document.status is DocumentStatus.QUEUED:
                document.advance(DocumentStatus.EXTRACTING, now)
                await uow.documents.update(document)
            await uow.jobs.schedule(jobs.settling(now, self._sweep_delay))
            await uow.commit()
        return document

    async def _read(self, document: Document) -> ExtractedText:
        try:
            download = await self._files.get(document.file_key)
        except NotFound:
            raise Unreadable("its file is missing") from None
        return await self._extractor.extract(download.content, document.kind)

    async def _indexing(self, document: Document, pages: int) -> Document | None:
        async with self._uow() as uow:
            current = await _current(uow, document.id, document.revision)
            if current is None or current.is_settled:
                return None
            if current.status is DocumentStatus.EXTRACTING:
                current.extracted(pages, self._clock.now())
                await uow.documents.update(current)
                await uow.commit()
        return current

    async def _vectors(self, chunks: Sequence[Chunk], deadline: float) -> dict[str, list[float]]:
        """The chunks' vectors; none when there is no embedder or it does not answer."""
        if self._embedder is None:
            return {}
        vectors: list[list[float]] = []
        try:
            async with asyncio.timeout_at(deadline):
                for start in range(0, len(chunks), self._embed_batch):
                    batch = chunks[start : start + self._embed_batch]
                    vectors += await self._embedder.embed([c.text for c in batch])
        except (ExternalServiceUnavailable, TimeoutError) as error:
            logger.info("chunks are indexed without vectors for now: %s", str(error) or "timed out")
            return {}
        except TaliaError as error:  # refused as it was: its settings need an operator
            logger.warning("chunks are indexed without vectors, the embedder refused: %s", error)
            return {}
        return {c.id: vector for c, vector in zip(chunks, vectors, strict=True)}

    async def _finish(
        self, document: Document, chunks: Sequence[Chunk], vectors: dict[str, list[float]]
    ) -> Document | None:
        """Chunks, vectors and ``ready`` in one transaction."""
        missing = self._embedder is not None and not vectors
        async with self._uow() as uow:
            current = await _current(uow, document.id, document.revision)
            if current is None or current.status is not DocumentStatus.INDEXING:
                return current
            now = self._clock.now()
            await uow.chunks.replace(current.id, chunks)
            if self._embedder is not None and vectors:
                await uow.vectors.put(self._embedder.model, vectors)
            if missing:
                await uow.jobs.schedule(jobs.embedding(now))
            current.indexed(len(chunks), now)
            await uow.documents.update(current)
            await uow.commit()
        if missing:
            self._wake()
        return current

    async def _fail(self, document: Document, reason: str) -> Document | None:
        async with self._uow() as uow:
            current = await _current(uow, document.id, document.revision)
            if current is None or current.is_settled:
                return current
            await self._settle_failed(uow, current, reason)
            await uow.commit()
        return current

    async def _settle_failed(
        self, uow: KnowledgeUnitOfWork, document: Document, reason: str
    ) -> None:
        document.fail(reason, self._clock.now())
        await uow.chunks.remove(document.id)
        await uow.documents.update(document)

    async def _fill(
        self, embedder: Embedder, batch_size: int, progress: Callable[[int], None] | None
    ) -> int:
        done = 0
        while True:
            async with self._uow(read_only=True) as uow:
                batch = await uow.vectors.missing(embedder.model, batch_size)
            if not batch:
                return done
            vectors = await embedder.embed([c.text for c in batch])
            async with self._uow() as uow:
                found = {c.id: vector for c, vector in zip(batch, vectors, strict=True)}
                await uow.vectors.put(embedder.model, found)
                await uow.commit()
            done += len(batch)
            if progress is not None:
                progress(done)


async def _current(uow: KnowledgeUnitOfWork, document_id: str, revision: int) -> Document | None:
    """The document, locked, when ``revision`` is still its revision."""
    try:
        document = await uow.documents.get(document_id)
    except NotFound:
        return None
    return document if document.revision == revision else None


async def _ingesting(uow: KnowledgeUnitOfWork, document: Document) -> bool:
    """Whether the job of the document's revision is waiting or running."""
    try:
        job = await uow.jobs.get(jobs.ingestion_id(document))
    except NotFound:
        return False
    return job.status in (JobStatus.PENDING, JobStatus.RUNNING)
