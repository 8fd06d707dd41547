"""What the knowledge base needs: storage for documents, chunks and vectors, an extractor
of text, and (optionally) an embedder."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol

from talia_core.knowledge.model import Chunk, Document, DocumentKind, Passage, TextRole
from talia_core.knowledge.text import ExtractedText
from talia_core.shared.jobs import JobsUnitOfWork
from talia_core.shared.pagination import Page, PageRequest


class DocumentRepository(Protocol):
    """A collection holds one document per content hash: ``add`` raises ``Conflict`` on a
    clash, whatever the caller checked."""

    async def add(self, document: Document) -> None: ...

    async def get(self, document_id: str) -> Document:
        """``NotFound`` when missing; locked in a writing unit."""
        ...

    async def by_hash(self, collection: str, content_hash: str) -> Document | None: ...

    async def update(self, document: Document) -> None:
        """``Conflict`` when its new content hash clashes with another document's."""
        ...

    async def remove(self, document_id: str) -> None: ...

    async def find(self, page: PageRequest, collection: str | None = None) -> Page[Document]:
        """Most recently created first."""
        ...

    async def collections(self) -> list[str]:
        """The names of the collections holding a document, sorted."""
        ...

    async def unsettled_since(self, before: datetime, limit: int) -> list[Document]:
        """Documents neither ready nor failed whose last change is older than ``before``."""
        ...


class ChunkRepository(Protocol):
    """The chunks of every ready document, searched by the database's own full-text
    engine. Collections filter inside the query, never after a global top-k."""

    async def replace(self, document_id: str, chunks: Sequence[Chunk]) -> None:
        """The document's chunks (and their vectors) are now exactly ``chunks``."""
        ...

    async def remove(self, document_id: str) -> None: ...

    async def lexical(self, query: str, collections: Sequence[str], limit: int) -> list[Passage]:
        """Best first; a query with no searchable word finds nothing."""
        ...

    async def count(self) -> int: ...


class VectorRepository(Protocol):
    """One vector per chunk and embedding model; vectors of another model than the one
    asked for are stale and never returned."""

    async def put(self, model: str, vectors: Mapping[str, Sequence[float]]) -> None:
        """Store (or overwrite) the vectors of the chunks named by id."""
        ...

    async def nearest(
        self, model: str, vector: Sequence[float], collections: Sequence[str], limit: int
    ) -> list[Passage]:
        """By cosine similarity, best first."""
        ...

    async def missing(self, model: str, limit: int) -> list[Chunk]:
        """Chunks with no vector of ``model`` yet, in a stable order."""
        ...

    async def forget_other_models(self, model: str) -> int:
        """Drop the vectors of every other model; how many went."""
        ...


class KnowledgeUnitOfWork(JobsUnitOfWork, Protocol):
    @property
    def documents(self) -> DocumentRepository: ...

    @property
    def chunks(self) -> ChunkRepository: ...

    @property
    def vectors(self) -> VectorRepository: ...


class TextExtractor(Protocol):
    async def sniff(self, content: bytes) -> DocumentKind | None:
        """The kind the bytes are, whatever the file's name says; ``None`` when none."""
        ...

    async def extract(self, content: bytes, kind: DocumentKind) -> ExtractedText:
        """``Unreadable`` with the reason when the bytes cannot be read as ``kind``."""
        ...


class Embedder(Protocol):
    @property
    def model(self) -> str:
        """Names the vector space: vectors of different models never meet."""
        ...

    async def embed(
        self, texts: Sequence[str], role: TextRole = TextRole.PASSAGE
    ) -> list[list[float]]:
        """One vector per text, in order, each embedded as ``role`` (a question searched
        for, or a passage stored); ``ExternalServiceUnavailable`` when the provider fails,
        another ``TaliaError`` when it refuses the request as it was."""
        ...
