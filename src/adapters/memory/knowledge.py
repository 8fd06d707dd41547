"""In-memory repositories of the knowledge base, with the SQL tables' keys and references.

A collection holds one document per content hash; chunks go with their document and
vectors with their chunk, and neither may name one that does not exist. Lexical search is
Okapi BM25 over the Spanish stems of the words (``adapters.spanish``, as SQLite and
MariaDB search); vector search is exact cosine similarity. Both take the asked
collections' chunks before ranking any.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from adapters import spanish
from adapters.memory.database import InMemoryRepositoryBundle, InMemoryTable, State, paginate
from talia_core.knowledge.model import Chunk, Document, Passage
from talia_core.shared.errors import Conflict
from talia_core.shared.pagination import Page, PageRequest

_WORD = re.compile(r"[^\W_]+")
# BM25's usual constants: how fast a repeated word stops counting, how much length weighs.
_K1 = 1.2
_B = 0.75

Vectors = dict[str, tuple[float, ...]]
"""A chunk's vectors by model, each at unit length."""


def words(text: str) -> list[str]:
    """The words of ``text``, lower-cased and without accents (ñ as n)."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    return _WORD.findall("".join(c for c in folded if not unicodedata.combining(c)))


class _Tables:
    """The three tables, on the unit of work's state."""

    def __init__(self, state: Callable[[], State]) -> None:
        self._state = state

    @property
    def documents(self) -> dict[str, Document]:
        return self._state().table("knowledge_documents")

    @property
    def chunks(self) -> dict[str, Chunk]:
        return self._state().table("knowledge_chunks")

    @property
    def vectors(self) -> dict[str, Vectors]:
        return self._state().table("knowledge_vectors")

    def drop_chunks(self, document_id: str) -> None:
        """A document's chunks, and their vectors with them."""
        for chunk in [c for c in self.chunks.values() if c.document_id == document_id]:
            del self.chunks[chunk.id]
            self.vectors.pop(chunk.id, None)

    def among(self, collections: Sequence[str]) -> list[Chunk]:
        wanted = set(collections)
        return [c for c in self.chunks.values() if c.collection in wanted]

    def passage(self, chunk: Chunk, score: float) -> Passage:
        return Passage(chunk=chunk, title=self.documents[chunk.document_id].title, score=score)


class InMemoryDocumentRepository(InMemoryTable[Document]):
    def __init__(self, state: Callable[[], State]) -> None:
        super().__init__(state, "knowledge_documents", "document")
        self._tables = _Tables(state)

    async def add(self, document: Document) -> None:
        self._refuse_taken_hash(document)
        await super().add(document)

    async def by_hash(self, collection: str, content_hash: str) -> Document | None:
        found = self.matching(
            lambda d: d.collection == collection and d.content_hash == content_hash
        )
        return found[0] if found else None

    async def update(self, document: Document) -> None:
        self._refuse_taken_hash(document)
        await super().update(document)

    async def remove(self, document_id: str) -> None:
        """Its chunks and their vectors go with it."""
        self._tables.drop_chunks(document_id)
        self.rows.pop(document_id, None)

    async def find(self, page: PageRequest, collection: str | None = None) -> Page[Document]:
        found = self.matching(lambda d: collection is None or d.collection == collection)
        return paginate(found, page, key=lambda d: (d.created_at, d.id))

    async def collections(self) -> list[str]:
        return sorted({document.collection for document in self.rows.values()})

    async def unsettled_since(self, before: datetime, limit: int) -> list[Document]:
        found = self.matching(lambda d: not d.is_settled and d.updated_at < before)
        return sorted(found, key=lambda d: (d.updated_at, d.id))[:limit]

    def _refuse_taken_hash(self, document: Document) -> None:
        for other in self.rows.values():
            if (
                other.id != document.id
                and other.collection == document.collection
                and other.content_hash == document.content_hash
            ):
                raise Conflict(
                    f"document {other.id!r} of collection {other.collection!r} has this content"
                )


class InMemoryChunkRepository:
    def __init__(self, state: Callable[[], State]) -> None:
        self._tables = _Tables(state)

    async def replace(self, document_id: str, chunks: Sequence[Chunk]) -> None:
        if document_id not in self._tables.documents:
            raise Conflict(f"document {document_id!r} does not exist")
        self._tables.drop_chunks(document_id)
        for chunk in chunks:
            if chunk.document_id != document_id or chunk.id in self._tables.chunks:
                raise Conflict(f"chunk {chunk.id!r} is not a new chunk of {document_id!r}")
            self._tables.chunks[chunk.id] = chunk

    async def remove(self, document_id: str) -> None:
        self._tables.drop_chunks(document_id)

    async def lexical(self, query: str, collections: Sequence[str], limit: int) -> list[Passage]:
        terms = set(spanish.query_terms(query))
        if not terms:
            return []
        candidates = [
            (c, Counter(spanish.terms(f"{c.section}\n{c.text}").split()))
            for c in self._tables.among(collections)
        ]
        if not candidates:
            return []
        average = sum(c.total() for _, c in candidates) / len(candidates)
        frequency = Counter(t for _, counts in candidates for t in terms if counts[t])
        scored = [
            (_bm25(counts, terms, frequency, len(candidates), average), chunk)
            for chunk, counts in candidates
            if any(counts[t] for t in terms)
        ]
        scored.sort(key=lambda pair: (-pair[0], pair[1].document_id, pair[1].position))
        return [self._tables.passage(chunk, score) for score, chunk in scored[:limit]]

    async def count(self) -> int:
        return len(self._tables.chunks)


def _bm25(
    counts: Counter[str], terms: set[str], frequency: Counter[str], total: int, average: float
) -> float:
    length = counts.total() / average if average else 0.0
    score = 0.0
    for term in terms:
        found = counts[term]
        if found:
            rarity = math.log(1 + (total - frequency[term] + 0.5) / (frequency[term] + 0.5))
            score += rarity * found * (_K1 + 1) / (found + _K1 * (1 - _B + _B * length))
    return score


class InMemoryVectorRepository:
    def __init__(self, state: Callable[[], State]) -> None:
        self._tables = _Tables(state)

    async def put(self, model: str, vectors: Mapping[str, Sequence[float]]) -> None:
        for chunk_id, vector in vectors.items():
            if chunk_id not in self._tables.chunks:
                raise Conflict(f"chunk {chunk_id!r} does not exist")
            self._tables.vectors.setdefault(chunk_id, {})[model] = _unit(vector)

    async def nearest(
        self, model: str, vector: Sequence[float], collections: Sequence[str], limit: int
    ) -> list[Passage]:
        target = _unit(vector)
        scored = []
        for chunk in self._tables.among(collections):
            stored = self._tables.vectors.get(chunk.id, {}).get(model)
            if stored is not None and len(stored) == len(target):
                scored.append((sum(a * b for a, b in zip(stored, target, strict=True)), chunk))
        scored.sort(key=lambda pair: (-pair[0], pair[1].document_id, pair[1].position))
        return [self._tables.passage(chunk, score) for score, chunk in scored[:limit]]

    async def missing(self, model: str, limit: int) -> list[Chunk]:
        found = [
            chunk
            for chunk in self._tables.chunks.values()
            if model not in self._tables.vectors.get(chunk.id, {})
        ]
        return sorted(found, key=lambda c: (c.document_id, c.position))[:limit]

    async def forget_other_models(self, model: str) -> int:
        forgotten = 0
        for by_model in self._tables.vectors.values():
            for other in [m for m in by_model if m != model]:
                del by_model[other]
                forgotten += 1
        return forgotten


def _unit(vector: Sequence[float]) -> tuple[float, ...]:
    norm = math.sqrt(sum(v * v for v in vector))
    return tuple(v / norm for v in vector) if norm else tuple(vector)


class InMemoryKnowledgeRepositories(InMemoryRepositoryBundle):
    documents: InMemoryDocumentRepository
    chunks: InMemoryChunkRepository
    vectors: InMemoryVectorRepository

    def bind(self, state: Callable[[], State]) -> None:
        self.documents = InMemoryDocumentRepository(state)
        self.chunks = InMemoryChunkRepository(state)
        self.vectors = InMemoryVectorRepository(state)
        super().bind(state)
