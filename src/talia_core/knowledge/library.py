"""The documents of the knowledge base: upload, replace, read and delete them.

An upload is checked at once (not empty, within ``UploadLimits``, a kind the extractor
recognises from the bytes, whatever the file's name says) and stored with its ingestion
job in one transaction; the worker reads and indexes it afterwards (``Ingestion``). The
same bytes in the same collection are one document: uploading them again answers the
document there is, even when two uploads race (the repository's unique key decides).
"""

from __future__ import annotations

import builtins
import hashlib
from collections.abc import Awaitable, Callable
from pathlib import PureWindowsPath

import attrs

from talia_core.knowledge import jobs
from talia_core.knowledge.model import (
    MAX_FILENAME_LENGTH,
    MAX_TITLE_LENGTH,
    Document,
    DocumentKind,
    DocumentStatus,
    collection_name,
)
from talia_core.knowledge.ports import KnowledgeUnitOfWork, TextExtractor
from talia_core.shared.clock import Clock
from talia_core.shared.errors import Conflict, RuleViolated
from talia_core.shared.files import FileStore
from talia_core.shared.pagination import Page, PageRequest
from talia_core.shared.ports import UnitOfWorkFactory
from talia_core.shared.text import optional_text, required_text


@attrs.frozen
class UploadLimits:
    max_bytes: int = attrs.field(default=20 * 1024 * 1024, validator=attrs.validators.ge(1))


@attrs.frozen
class Uploaded:
    """The document holding the bytes; ``duplicate`` when it was there before the upload."""

    document: Document
    duplicate: bool


@attrs.frozen
class _Content:
    kind: DocumentKind
    content_hash: str
    size: int


class KnowledgeLibrary:
    """Callers are admins and agents (the HTTP guard checks); ``by`` is who uploads.
    ``wake`` tells the job queue that an ingestion was just committed."""

    def __init__(
        self,
        uow: UnitOfWorkFactory[KnowledgeUnitOfWork],
        files: FileStore,
        extractor: TextExtractor,
        clock: Clock,
        limits: UploadLimits,
        *,
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self._uow = uow
        self._files = files
        self._extractor = extractor
        self._clock = clock
        self._limits = limits
        self._wake = wake

    async def upload(
        self,
        *,
        collection: str,
        filename: str,
        content: bytes,
        by: str,
        title: str | None = None,
    ) -> Uploaded:
        """Store a new document, queued; its title is the file's name without its
        extension when none is given."""
        collection = collection_name(collection)
        filename = required_text("filename", filename, MAX_FILENAME_LENGTH)
        title = optional_text("title", title, MAX_TITLE_LENGTH) or _title_of(filename)
        checked = await self._check(content)
        now = self._clock.now()
        document = Document.new(
            collection=collection,
            title=title,
            filename=filename,
            kind=checked.kind,
            size=checked.size,
            content_hash=checked.content_hash,
            uploaded_by=by,
            at=now,
        )
        try:
            async with self._uow() as uow:
                existing = await uow.documents.by_hash(collection, checked.content_hash)
                if existing is not None:
                    return Uploaded(existing, duplicate=True)
                await self._commit(uow, uow.documents.add, document, content)
        except Conflict:
            async with self._uow(read_only=True) as uow:
                winner = await uow.documents.by_hash(collection, checked.content_hash)
            if winner is None:
                raise
            return Uploaded(winner, duplicate=True)
        self._wake()
        return Uploaded(document, duplicate=False)

    async def replace(
        self, document_id: str, *, filename: str, content: bytes, by: str
    ) -> Document:
        """New bytes for a document, indexed as its next revision; until they are ready its
        chunks so far answer searches. The same bytes again change nothing, unless the
        document failed: then they are read again. ``Conflict`` when another document of
        the collection holds these bytes."""
        filename = required_text("filename", filename, MAX_FILENAME_LENGTH)
        checked = await self._check(content)
        now = self._clock.now()
        async with self._uow() as uow:
            document = await uow.documents.get(document_id)
            same = document.content_hash == checked.content_hash
            if same and document.status is not DocumentStatus.FAILED:
                return document
            holder = await uow.documents.by_hash(document.collection, checked.content_hash)
            if holder is not None and holder.id != document.id:
                raise Conflict(
                    f"document {holder.id!r} of collection {document.collection!r} holds "
                    "these bytes already"
                )
            earlier = document.file_key
            document.replace(
                filename=filename,
                kind=checked.kind,
                size=checked.size,
                content_hash=checked.content_hash,
                at=now,
                by=by,
            )
            await self._commit(uow, uow.documents.update, document, content)
        await self._files.delete(earlier)
        self._wake()
        return document

    async def get(self, document_id: str) -> Document:
        async with self._uow(read_only=True) as uow:
            return await uow.documents.get(document_id)

    async def list(self, page: PageRequest, collection: str | None = None) -> Page[Document]:
        """Most recently uploaded first; of one collection when it is named."""
        named = None if collection is None else collection_name(collection)
        async with self._uow(read_only=True) as uow:
            return await uow.documents.find(page, named)

    async def collections(self) -> builtins.list[str]:
        """The names of the collections holding a document, sorted: "every collection" for
        a search that names none."""
        async with self._uow(read_only=True) as uow:
            return await uow.documents.collections()

    async def delete(self, document_id: str) -> None:
        """The document, its chunks and their vectors go at once; then its file."""
        async with self._uow() as uow:
            document = await uow.documents.get(document_id)
            await uow.chunks.remove(document_id)
            await uow.documents.remove(document_id)
            await uow.commit()
        await self._files.delete(document.file_key)

    async def _commit(
        self,
        uow: KnowledgeUnitOfWork,
        write: Callable[[Document], Awaitable[None]],
        document: Document,
        content: bytes,
    ) -> None:
        """The file, then the document (``write``) and its ingestion job, committed; the
        file is deleted again when they are not."""
        await self._files.put(document.file_key, content, document.kind.mime_type)
        try:
            await write(document)
            await uow.jobs.add(jobs.ingestion(document, document.updated_at))
            await uow.commit()
        except BaseException:
            await self._files.delete(document.file_key)
            raise

    async def _check(self, content: bytes) -> _Content:
        if not content:
            raise RuleViolated("the file is empty", {"file": "empty"})
        if len(content) > self._limits.max_bytes:
            raise RuleViolated(
                f"the file is over the limit of {self._limits.max_bytes} bytes",
                {"file": "too large"},
            )
        kind = await self._extractor.sniff(content)
        if kind is None:
            known = ", ".join(k.value for k in DocumentKind)
            raise RuleViolated(
                f"the file is none of the kinds the knowledge base reads ({known})",
                {"file": "unsupported"},
            )
        return _Content(kind, hashlib.sha256(content).hexdigest(), len(content))


def _title_of(filename: str) -> str:
    """The file's name without its folders and extension, shortened to a title's length on
    purpose; the whole name when that leaves nothing."""
    stem = PureWindowsPath(filename).stem.strip() or filename
    return stem[:MAX_TITLE_LENGTH].strip()
