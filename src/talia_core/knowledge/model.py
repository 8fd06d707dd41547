"""Documents in collections, their ingestion states, and the passages cut from them.

A document moves ``queued → extracting → indexing → ready``, or to ``failed`` with the
reason from any state but ``ready``; replacing its file puts it back to ``queued`` with the
next ``revision`` (its chunks from the earlier revision answer searches until the new ones
take their place in one transaction). Ingestion works on one revision: a job for an older
revision finds nothing to do.
"""

from __future__ import annotations

import enum
from datetime import datetime

import attrs

from talia_core.shared.errors import Conflict
from talia_core.shared.ids import new_id
from talia_core.shared.text import slug

MAX_COLLECTION_LENGTH = 64
"""A collection is named by a slug, as assistant definitions name the ones they search."""
MAX_TITLE_LENGTH = 200
MAX_FILENAME_LENGTH = 255
MAX_REASON_LENGTH = 500
"""A failure's reason is kept for the admin to read, shortened to this on purpose."""
MAX_SECTION_LENGTH = 300
"""A chunk's heading path is a label to cite, shortened to this on purpose."""
MAX_QUERY_LENGTH = 1000
MAX_SEARCH_LIMIT = 50
MAX_SEARCH_COLLECTIONS = 100


def collection_name(value: str, field: str = "collection") -> str:
    """A collection's name, checked: a slug, as assistant definitions name collections."""
    return slug(field, value, MAX_COLLECTION_LENGTH)


class DocumentKind(enum.StrEnum):
    PDF = "pdf"
    DOCX = "docx"
    MARKDOWN = "markdown"
    HTML = "html"
    TEXT = "text"

    @property
    def mime_type(self) -> str:
        return _MIME_TYPES[self]


_MIME_TYPES = {
    DocumentKind.PDF: "application/pdf",
    DocumentKind.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    DocumentKind.MARKDOWN: "text/markdown",
    DocumentKind.HTML: "text/html",
    DocumentKind.TEXT: "text/plain",
}


class DocumentStatus(enum.StrEnum):
    QUEUED = "queued"
    EXTRACTING = "extracting"
    INDEXING = "indexing"
    READY = "ready"
    FAILED = "failed"


_NEXT = {
    DocumentStatus.QUEUED: DocumentStatus.EXTRACTING,
    DocumentStatus.EXTRACTING: DocumentStatus.INDEXING,
    DocumentStatus.INDEXING: DocumentStatus.READY,
}


@attrs.define
class Document:
    """An uploaded file in a collection; its bytes live in the file store at ``file_key``.

    ``content_hash`` is the SHA-256 of the bytes (hex): the same bytes in the same
    collection are one document.
    """

    id: str
    collection: str
    title: str
    filename: str
    kind: DocumentKind
    size: int
    content_hash: str
    uploaded_by: str
    created_at: datetime
    updated_at: datetime
    revision: int = 1
    status: DocumentStatus = DocumentStatus.QUEUED
    reason: str | None = None
    pages: int = 0
    chunk_count: int = 0

    @classmethod
    def new(
        cls,
        *,
        collection: str,
        title: str,
        filename: str,
        kind: DocumentKind,
        size: int,
        content_hash: str,
        uploaded_by: str,
        at: datetime,
    ) -> Document:
        return cls(
            id=new_id(),
            collection=collection,
            title=title,
            filename=filename,
            kind=kind,
            size=size,
            content_hash=content_hash,
            uploaded_by=uploaded_by,
            created_at=at,
            updated_at=at,
        )

    @property
    def file_key(self) -> str:
        return f"documents/{self.id}/{self.revision}"

    @property
    def is_settled(self) -> bool:
        """Ready or failed: nothing more happens to it until its file is replaced."""
        return self.status in (DocumentStatus.READY, DocumentStatus.FAILED)

    def advance(self, to: DocumentStatus, at: datetime) -> None:
        """Move one step along ingestion; anything else is a ``Conflict``."""
        if _NEXT.get(self.status) is not to:
            raise Conflict(f"document {self.id!r} cannot go from {self.status} to {to}")
        self.status = to
        self.updated_at = at

    def extracted(self, pages: int, at: datetime) -> None:
        self.advance(DocumentStatus.INDEXING, at)
        self.pages = pages

    def indexed(self, chunk_count: int, at: datetime) -> None:
        self.advance(DocumentStatus.READY, at)
        self.chunk_count = chunk_count
        self.reason = None

    def fail(self, reason: str, at: datetime) -> None:
        if self.status is DocumentStatus.READY:
            raise Conflict(f"document {self.id!r} is ready and cannot fail")
        self.status = DocumentStatus.FAILED
        self.reason = reason[:MAX_REASON_LENGTH]
        self.chunk_count = 0  # a failed document answers no search
        self.updated_at = at

    def replace(
        self,
        *,
        filename: str,
        kind: DocumentKind,
        size: int,
        content_hash: str,
        at: datetime,
        by: str | None = None,
    ) -> None:
        """New bytes for the same document: queued again at the next revision
        (``uploaded_by`` becomes ``by``, who uploaded them, when given)."""
        self.filename = filename
        self.uploaded_by = by or self.uploaded_by
        self.kind = kind
        self.size = size
        self.content_hash = content_hash
        self.revision += 1
        self.status = DocumentStatus.QUEUED
        self.reason = None
        self.updated_at = at


@attrs.frozen
class Chunk:
    """A passage of a document's revision: ``position`` orders it in the document,
    ``section`` is the heading path it sits under ("Pagos > Reembolsos"), ``page`` its
    first page when the format has pages."""

    id: str
    document_id: str
    collection: str
    position: int
    text: str
    section: str = ""
    page: int | None = None


class TextRole(enum.StrEnum):
    """What a text is to an embedder. Some models place a question apart from the passages
    that answer it (E5 reads "query: " or "passage: " before the text); others embed both
    alike and ignore the role."""

    QUERY = "query"
    PASSAGE = "passage"


@attrs.frozen
class Passage:
    """A chunk found by a search, with its document's title and its score (higher is
    better; fused scores are only comparable within one search)."""

    chunk: Chunk
    title: str
    score: float

    @property
    def source(self) -> str:
        """The title and section, as an answer cites it; a section under a first heading
        that repeats the title (as documents often open) does not say it twice."""
        section = self.chunk.section
        if not section:
            return self.title
        top = section.split(" > ", 1)[0]
        if top.casefold() == self.title.casefold():
            return section
        return f"{self.title} > {section}"
