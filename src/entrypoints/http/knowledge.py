"""The knowledge base: documents uploaded by admins and agents, and searching them.

An upload is a multipart form (``file``, ``collection``, optional ``title``); the file's kind
is read from its bytes, never from its name. Ingestion runs as a background job: a document
answers ``queued`` at once and moves to ``ready`` (or ``failed``, with the reason) on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from litestar import Controller, delete, get, post, put
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, JSONBody, QueryParameter
from litestar.response import Response
from pydantic import Field

from entrypoints.http.auth import staff
from entrypoints.http.errors import problems
from entrypoints.http.schemas import (
    PRINTABLE,
    Id,
    JsonInt,
    Limit,
    Offset,
    Out,
    PageOut,
    Schema,
    page_out,
    page_request,
)
from talia_core.identity.model import Principal
from talia_core.knowledge.library import KnowledgeLibrary
from talia_core.knowledge.model import (
    MAX_COLLECTION_LENGTH,
    MAX_QUERY_LENGTH,
    MAX_SEARCH_COLLECTIONS,
    MAX_SEARCH_LIMIT,
    Document,
    DocumentKind,
    DocumentStatus,
    Passage,
)
from talia_core.knowledge.search import KnowledgeSearch

MAX_UPLOAD_BYTES = 64 * 1024 * 1024
"""The most an upload request may carry; ``TALIA_KNOWLEDGE__MAX_BYTES`` (at most this)
sets the largest document."""
CollectionFilter = Annotated[
    str | None,
    QueryParameter(max_length=MAX_COLLECTION_LENGTH, pattern=PRINTABLE, description="Only this."),
]


@dataclass
class DocumentForm:
    file: UploadFile
    collection: str = ""
    title: str | None = None


@dataclass
class ReplacementForm:
    file: UploadFile


Form = Body(media_type=RequestEncodingType.MULTI_PART)


class DocumentOut(Out):
    id: str
    collection: str
    title: str
    filename: str
    kind: DocumentKind = Field(description="Read from the bytes, not the file's name.")
    size: int = Field(description="Bytes.")
    content_hash: str = Field(description="SHA-256 of the bytes, hex.")
    revision: int = Field(description="1, and one more each time the file is replaced.")
    status: DocumentStatus
    reason: str | None = Field(description="Why it failed, when it did.")
    pages: int = Field(description="Pages read, for formats with pages; 0 otherwise.")
    chunk_count: int
    uploaded_by: str
    created_at: datetime
    updated_at: datetime


class SearchIn(Schema):
    query: str = Field(
        description=f"1 to {MAX_QUERY_LENGTH} characters; a blank or longer one is a rule "
        "broken (422)."
    )
    collections: list[str] | None = Field(
        None,
        max_length=MAX_SEARCH_COLLECTIONS,
        description="The collections to search, by name; absent: all of them.",
    )
    limit: Annotated[JsonInt, Field(ge=1, le=MAX_SEARCH_LIMIT)] = 5


class PassageOut(Out):
    document_id: str
    title: str = Field(description="The document's title.")
    collection: str
    section: str = Field(description="The headings the passage sits under, '>'-separated.")
    page: int | None
    position: int = Field(description="The passage's place in its document, from 0.")
    text: str
    score: float = Field(description="Higher is better; comparable within one search only.")
    source: str = Field(description="Title and section, as an answer cites them.")

    @classmethod
    def of(cls, passage: Passage) -> PassageOut:
        chunk = passage.chunk
        return cls(
            document_id=chunk.document_id,
            title=passage.title,
            collection=chunk.collection,
            section=chunk.section,
            page=chunk.page,
            position=chunk.position,
            text=chunk.text,
            score=passage.score,
            source=passage.source,
        )


async def _read(upload: UploadFile) -> tuple[str, bytes]:
    try:
        return upload.filename or "document", await upload.read()
    finally:
        await upload.close()


class DocumentController(Controller):
    path = "/api/documents"
    tags = ["knowledge"]
    guards = [staff]

    @post(
        "/",
        request_max_body_size=MAX_UPLOAD_BYTES,
        responses=problems(400, 401, 403, 409, 413, 422),
    )
    async def upload_document(
        self,
        data: Annotated[DocumentForm, Form],
        knowledge: NamedDependency[KnowledgeLibrary],
        principal: NamedDependency[Principal],
    ) -> Response[DocumentOut]:
        """A new document in a collection, queued for ingestion (201). The same bytes in the
        same collection are the document already there (200), indexed once. 422 for an
        empty file, one over the size limit, or a kind that is not PDF, DOCX, Markdown,
        HTML or plain text."""
        filename, content = await _read(data.file)
        uploaded = await knowledge.upload(
            collection=data.collection,
            filename=filename,
            content=content,
            by=principal.user_id,
            title=data.title,
        )
        document = DocumentOut.model_validate(uploaded.document)
        return Response(document, status_code=200 if uploaded.duplicate else 201)

    @get("/", responses=problems(400, 401, 403))
    async def list_documents(
        self,
        knowledge: NamedDependency[KnowledgeLibrary],
        collection: CollectionFilter = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> PageOut[DocumentOut]:
        """Documents, newest first, with their ingestion status."""
        page = await knowledge.list(page_request(limit, offset), collection)
        return page_out(page, DocumentOut.model_validate)

    @get("/{document_id:str}", responses=problems(400, 401, 403, 404))
    async def get_document(
        self, document_id: Id, knowledge: NamedDependency[KnowledgeLibrary]
    ) -> DocumentOut:
        return DocumentOut.model_validate(await knowledge.get(document_id))

    @put(
        "/{document_id:str}",
        request_max_body_size=MAX_UPLOAD_BYTES,
        responses=problems(400, 401, 403, 404, 409, 413, 422),
    )
    async def replace_document(
        self,
        document_id: Id,
        data: Annotated[ReplacementForm, Form],
        knowledge: NamedDependency[KnowledgeLibrary],
        principal: NamedDependency[Principal],
    ) -> DocumentOut:
        """New bytes for the document, ingested as its next revision; searches see its
        earlier passages until the new ones replace them all at once. 409 when another
        document of the collection holds these bytes."""
        filename, content = await _read(data.file)
        document: Document = await knowledge.replace(
            document_id, filename=filename, content=content, by=principal.user_id
        )
        return DocumentOut.model_validate(document)

    @delete("/{document_id:str}", responses=problems(400, 401, 403, 404))
    async def delete_document(
        self, document_id: Id, knowledge: NamedDependency[KnowledgeLibrary]
    ) -> None:
        """The document, its passages and its file are gone."""
        await knowledge.delete(document_id)

    @post("/search", status_code=200, responses=problems(400, 401, 403, 422))
    async def search_documents(
        self,
        data: JSONBody[SearchIn],
        knowledge_search: NamedDependency[KnowledgeSearch],
        knowledge: NamedDependency[KnowledgeLibrary],
    ) -> list[PassageOut]:
        """The passages that best answer the query, best first, as an assistant's
        ``search_knowledge`` finds them (lexical and, with an embedder, vector rankings
        fused), in the collections named or in all."""
        collections = data.collections
        if collections is None:
            collections = await knowledge.collections()
        passages = await knowledge_search.search(data.query, collections, data.limit)
        return [PassageOut.of(passage) for passage in passages]


CONTROLLERS = [DocumentController]
