"""The admins' documents: upload, duplicates, replace, list, delete."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from functools import partial

import pytest

from adapters.memory.database import State
from adapters.memory.knowledge import InMemoryDocumentRepository
from adapters.memory.unit_of_work import InMemoryUnitOfWork
from talia_core.knowledge.jobs import INGEST_JOB, ingestion_id
from talia_core.knowledge.library import KnowledgeLibrary, UploadLimits
from talia_core.knowledge.model import Document, DocumentKind, DocumentStatus
from talia_core.shared.errors import Conflict, NotFound, RuleViolated
from talia_core.shared.jobs import JobStatus
from talia_core.shared.pagination import MAX_LIMIT, PageRequest
from tests.unit.knowledge.conftest import ADMIN, GUIDE, MAX_BYTES, Shelf


async def documents(shelf: Shelf, collection: str | None = None) -> list[Document]:
    return list((await shelf.library.list(PageRequest(), collection)).items)


async def test_an_upload_stores_the_file_and_a_queued_document_with_its_ingestion_job(
    shelf: Shelf,
) -> None:
    uploaded = await shelf.library.upload(
        collection="faq", filename="Guía de compra.md", content=GUIDE.encode(), by=ADMIN
    )

    document = uploaded.document
    assert not uploaded.duplicate
    assert document == await shelf.library.get(document.id)
    assert document.title == "Guía de compra"
    assert (document.kind, document.status, document.revision) == (
        DocumentKind.MARKDOWN,
        DocumentStatus.QUEUED,
        1,
    )
    assert (document.size, document.uploaded_by) == (len(GUIDE.encode()), ADMIN)
    assert (await shelf.files.get(document.file_key)).content == GUIDE.encode()
    async with shelf.uow(read_only=True) as uow:
        job = await uow.jobs.get(ingestion_id(document))
    assert (job.kind, job.payload) == (INGEST_JOB, {"document_id": document.id, "revision": 1})


async def test_a_title_given_is_kept_and_a_windows_path_gives_its_name(shelf: Shelf) -> None:
    titled = await shelf.library.upload(
        collection="faq", filename="a.txt", content=b"uno", by=ADMIN, title=" Precios 2026 "
    )
    from_path = await shelf.library.upload(
        collection="faq", filename="C:\\docs\\politicas.txt", content=b"dos", by=ADMIN
    )

    assert titled.document.title == "Precios 2026"
    assert from_path.document.title == "politicas"


async def test_the_same_bytes_in_the_same_collection_are_the_document_there_is(
    shelf: Shelf,
) -> None:
    first = await shelf.upload(GUIDE)

    again = await shelf.library.upload(
        collection="faq", filename="otra.md", content=GUIDE.encode(), by="agent-2"
    )

    assert again.duplicate
    assert again.document == first
    assert [d.id for d in await documents(shelf)] == [first.id]
    assert await shelf.job_statuses(INGEST_JOB) == [JobStatus.PENDING]


async def test_the_same_bytes_in_another_collection_are_another_document(shelf: Shelf) -> None:
    first = await shelf.upload(GUIDE, collection="faq")
    shelf.clock.advance(timedelta(minutes=1))

    other = await shelf.upload(GUIDE, collection="ventas")

    assert other.id != first.id
    assert [d.collection for d in await documents(shelf)] == ["ventas", "faq"]
    assert [d.id for d in await documents(shelf, "faq")] == [first.id]


async def test_uploads_of_the_same_bytes_at_once_make_one_document(shelf: Shelf) -> None:
    uploads = await asyncio.gather(
        *(
            shelf.library.upload(
                collection="faq", filename=f"{n}.md", content=GUIDE.encode(), by=ADMIN
            )
            for n in range(5)
        )
    )

    assert len({u.document.id for u in uploads}) == 1
    assert sorted(u.duplicate for u in uploads) == [False, True, True, True, True]


class _LooksTooEarly(InMemoryDocumentRepository):
    """Finds nothing by hash: as if another upload of the same bytes committed between
    this look and the insert."""

    async def by_hash(self, collection: str, content_hash: str) -> Document | None:
        return None


class _RacingUnitOfWork(InMemoryUnitOfWork):
    def bind(self, state: Callable[[], State]) -> None:
        super().bind(state)
        if not self._read_only:
            self.documents = _LooksTooEarly(state)


async def test_an_upload_that_loses_the_race_answers_the_winner_and_keeps_no_file(
    shelf: Shelf,
) -> None:
    winner = await shelf.upload(GUIDE)
    racing = KnowledgeLibrary(
        partial(_RacingUnitOfWork, shelf.database),
        shelf.files,
        shelf.extractor,
        shelf.clock,
        UploadLimits(max_bytes=MAX_BYTES),
    )

    lost = await racing.upload(collection="faq", filename="b.md", content=GUIDE.encode(), by=ADMIN)

    assert lost.duplicate
    assert lost.document == winner
    assert shelf.files.keys() == [winner.file_key]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty"),
        (b"x" * (MAX_BYTES + 1), "too large"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "unsupported"),
    ],
)
async def test_a_file_that_is_empty_too_large_or_of_no_known_kind_is_refused(
    shelf: Shelf, content: bytes, reason: str
) -> None:
    with pytest.raises(RuleViolated) as refused:
        await shelf.library.upload(collection="faq", filename="a.md", content=content, by=ADMIN)

    assert refused.value.fields == {"file": reason}
    assert await documents(shelf) == []
    assert shelf.files.keys() == []
    assert await shelf.job_statuses(INGEST_JOB) == []


@pytest.mark.parametrize(
    ("fields", "refused_field"),
    [
        ({"collection": "Preguntas Frecuentes"}, "collection"),
        ({"collection": ""}, "collection"),
        ({"collection": "a" * 65}, "collection"),
        ({"filename": "  "}, "filename"),
        ({"filename": "a" * 256}, "filename"),
        ({"title": "t" * 201}, "title"),
    ],
)
async def test_names_that_break_the_rules_are_refused(
    shelf: Shelf, fields: dict[str, str], refused_field: str
) -> None:
    upload = {"collection": "faq", "filename": "a.md", "title": None, **fields}

    with pytest.raises(RuleViolated) as refused:
        await shelf.library.upload(content=b"hola", by=ADMIN, **upload)  # type: ignore[arg-type]

    assert set(refused.value.fields) == {refused_field}
    assert await documents(shelf) == []


async def test_a_replacement_is_the_next_revision_queued_with_its_own_job(shelf: Shelf) -> None:
    document = await shelf.ready()

    replaced = await shelf.library.replace(
        document.id, filename="guia-2026.md", content=b"# Pagos\n\nSolo Yape.", by="admin-2"
    )

    assert (replaced.revision, replaced.status, replaced.filename) == (
        2,
        DocumentStatus.QUEUED,
        "guia-2026.md",
    )
    assert (replaced.uploaded_by, replaced.title) == ("admin-2", document.title)
    assert shelf.files.keys() == [replaced.file_key]
    async with shelf.uow(read_only=True) as uow:
        job = await uow.jobs.get(ingestion_id(replaced))
    assert job.payload == {"document_id": document.id, "revision": 2}


async def test_replacing_with_the_same_bytes_changes_nothing(shelf: Shelf) -> None:
    document = await shelf.ready()

    replaced = await shelf.library.replace(
        document.id, filename="x.md", content=GUIDE.encode(), by=ADMIN
    )

    assert replaced == document


async def test_the_same_bytes_read_a_failed_document_again(shelf: Shelf) -> None:
    document = await shelf.ready("Esto es ILEGIBLE")
    assert document.status is DocumentStatus.FAILED

    again = await shelf.library.replace(
        document.id, filename="x.md", content=b"Esto es ILEGIBLE", by=ADMIN
    )

    assert (again.revision, again.status, again.reason) == (2, DocumentStatus.QUEUED, None)


async def test_replacing_with_the_bytes_of_another_document_of_the_collection_is_a_conflict(
    shelf: Shelf,
) -> None:
    first = await shelf.upload("primero")
    second = await shelf.upload("segundo")

    with pytest.raises(Conflict):
        await shelf.library.replace(second.id, filename="x.md", content=b"primero", by=ADMIN)

    assert await shelf.library.get(second.id) == second
    assert sorted(shelf.files.keys()) == sorted([first.file_key, second.file_key])


async def test_a_replacement_is_checked_like_an_upload(shelf: Shelf) -> None:
    document = await shelf.upload()

    with pytest.raises(RuleViolated) as refused:
        await shelf.library.replace(document.id, filename="x.md", content=b"", by=ADMIN)

    assert refused.value.fields == {"file": "empty"}
    assert await shelf.library.get(document.id) == document


async def test_deleting_a_document_takes_its_chunks_vectors_and_file(shelf: Shelf) -> None:
    kept = await shelf.ready("Horario de atención: de lunes a viernes.")
    document = await shelf.ready()
    assert await shelf.chunks(document.id)

    await shelf.library.delete(document.id)

    with pytest.raises(NotFound):
        await shelf.library.get(document.id)
    assert await shelf.chunks(document.id) == []
    assert [c.document_id for c in await shelf.chunks()] == [kept.id]
    assert await shelf.missing() == []
    assert shelf.files.keys() == [kept.file_key]
    found = await shelf.search.search("precios invitación horario", ["faq"])
    assert {p.chunk.document_id for p in found} == {kept.id}


async def test_an_unknown_document_is_not_found(shelf: Shelf) -> None:
    for action in (
        shelf.library.get("nope"),
        shelf.library.delete("nope"),
        shelf.library.replace("nope", filename="a.md", content=b"hola", by=ADMIN),
    ):
        with pytest.raises(NotFound):
            await action


async def test_listing_a_collection_with_a_bad_name_is_refused(shelf: Shelf) -> None:
    with pytest.raises(RuleViolated) as refused:
        await shelf.library.list(PageRequest(), "Mala Colección")

    assert refused.value.fields == {"collection": "not a slug"}


async def test_the_collections_are_those_holding_a_document(shelf: Shelf) -> None:
    assert await shelf.library.collections() == []
    for n in range(MAX_LIMIT + 1):
        await shelf.upload(f"documento {n}", collection="faq" if n % 2 else "precios")
    await shelf.upload("otro", collection="ventas")

    assert await shelf.library.collections() == ["faq", "precios", "ventas"]
