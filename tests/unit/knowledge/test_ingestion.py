"""The worker's ingestion: statuses in order, failures with reasons, atomic replacement,
stale jobs, an embedder that is down, timeouts and stuck documents."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from talia_core.knowledge.ingestion import STUCK_REASON
from talia_core.knowledge.jobs import EMBED_JOB, INGEST_JOB
from talia_core.knowledge.model import DocumentStatus
from talia_core.shared.jobs import JobStatus
from tests.unit.knowledge.conftest import GUIDE, Gate, RefusingEmbedder, Shelf, make_shelf


async def status_of(shelf: Shelf, document_id: str) -> DocumentStatus:
    return (await shelf.library.get(document_id)).status


async def test_a_document_goes_queued_extracting_indexing_ready(shelf: Shelf) -> None:
    document = await shelf.upload()
    assert document.status is DocumentStatus.QUEUED
    shelf.extractor.gate = extracting = Gate()
    assert shelf.embedder is not None
    shelf.embedder.gate = indexing = Gate()

    worker = asyncio.create_task(shelf.run_jobs())
    await extracting.reached.wait()
    seen = [await status_of(shelf, document.id)]
    extracting.open()
    await indexing.reached.wait()
    seen.append(await status_of(shelf, document.id))
    indexing.open()
    await worker

    ready = await shelf.library.get(document.id)
    assert seen == [DocumentStatus.EXTRACTING, DocumentStatus.INDEXING]
    assert ready.status is DocumentStatus.READY
    chunks = await shelf.chunks(document.id)
    assert ready.chunk_count == len(chunks) > 0
    assert await shelf.missing() == []


async def test_a_ready_document_answers_with_its_section_and_table_rows(shelf: Shelf) -> None:
    document = await shelf.ready()

    chunks = await shelf.chunks(document.id)

    assert [c.section for c in chunks] == ["Pagos", "Pagos > Reembolsos", "Precios"]
    assert "Producto: Invitación premium | Precio: S/ 9" in chunks[2].text
    assert {c.collection for c in chunks} == {"faq"}


async def test_pages_of_a_paged_document_are_counted_and_kept_on_chunks(shelf: Shelf) -> None:
    document = await shelf.ready("Primera página.\fSegunda página.")

    assert document.pages == 2
    assert [c.page for c in await shelf.chunks(document.id)] == [1]


async def test_an_unreadable_document_fails_with_the_reason_and_is_not_retried(
    shelf: Shelf,
) -> None:
    document = await shelf.ready("%PDF-1.7 cifrado")

    assert document.status is DocumentStatus.FAILED
    assert document.reason == "the PDF is encrypted"
    assert await shelf.chunks(document.id) == []
    assert await shelf.job_statuses(INGEST_JOB) == [JobStatus.DONE]


async def test_a_document_with_no_text_fails(shelf: Shelf) -> None:
    document = await shelf.ready("   \n\n   ")

    assert document.status is DocumentStatus.FAILED
    assert document.reason == "no text could be read from it"


async def test_a_document_whose_file_went_missing_fails(shelf: Shelf) -> None:
    document = await shelf.upload()
    await shelf.files.delete(document.file_key)

    await shelf.run_jobs()

    failed = await shelf.library.get(document.id)
    assert (failed.status, failed.reason) == (DocumentStatus.FAILED, "its file is missing")


async def test_the_same_bytes_uploaded_twice_are_indexed_once(shelf: Shelf) -> None:
    document = await shelf.ready()

    await shelf.upload(GUIDE)
    await shelf.run_jobs()

    assert await shelf.job_statuses(INGEST_JOB) == [JobStatus.DONE]
    assert len(await shelf.chunks()) == document.chunk_count


async def test_a_search_during_a_replacement_sees_the_old_chunks_then_only_the_new(
    shelf: Shelf,
) -> None:
    document = await shelf.ready("# Envíos\n\nEnviamos por Olva en tres días.")
    await shelf.library.replace(
        document.id, filename="envios.md", content=b"# Envios\n\nEnviamos por Shalom.", by="a"
    )
    assert shelf.embedder is not None
    shelf.embedder.gate = embedding = Gate()

    worker = asyncio.create_task(shelf.run_jobs())
    await embedding.reached.wait()
    during = await shelf.search.search("enviamos olva shalom", ["faq"])
    embedding.open()
    await worker
    after = await shelf.search.search("enviamos olva shalom", ["faq"])

    assert [p.chunk.text for p in during] == ["Envíos\nEnviamos por Olva en tres días."]
    assert [p.chunk.text for p in after] == ["Envios\nEnviamos por Shalom."]
    replaced = await shelf.library.get(document.id)
    assert (replaced.status, replaced.revision, replaced.chunk_count) == (
        DocumentStatus.READY,
        2,
        1,
    )


async def test_a_failed_replacement_leaves_the_document_answering_nothing(shelf: Shelf) -> None:
    document = await shelf.ready()

    await shelf.library.replace(document.id, filename="x.md", content=b"ILEGIBLE", by="a")
    await shelf.run_jobs()

    failed = await shelf.library.get(document.id)
    assert (failed.status, failed.chunk_count) == (DocumentStatus.FAILED, 0)
    assert await shelf.chunks() == []


async def test_the_job_of_a_replaced_revision_does_nothing(shelf: Shelf) -> None:
    document = await shelf.upload()
    await shelf.library.replace(document.id, filename="b.md", content=b"Solo Yape.", by="a")

    assert await shelf.ingestion.ingest(document.id, 1) is None

    assert (await shelf.library.get(document.id)).status is DocumentStatus.QUEUED
    await shelf.run_jobs()
    ready = await shelf.library.get(document.id)
    assert (ready.status, ready.revision) == (DocumentStatus.READY, 2)
    assert [c.text for c in await shelf.chunks()] == ["Solo Yape."]


async def test_the_job_of_a_deleted_document_does_nothing(shelf: Shelf) -> None:
    document = await shelf.upload()
    await shelf.library.delete(document.id)

    await shelf.run_jobs()

    assert await shelf.job_statuses(INGEST_JOB) == [JobStatus.DONE]
    assert await shelf.chunks() == []


async def test_a_settled_document_is_not_ingested_again(shelf: Shelf) -> None:
    document = await shelf.ready()

    assert await shelf.ingestion.ingest(document.id, 1) is None

    assert await shelf.library.get(document.id) == document


async def test_with_the_embedder_down_a_document_is_ready_lexically_and_vectors_follow(
    shelf: Shelf,
) -> None:
    shelf.hashing.fail_next(2)  # the ingestion's call, and the embedding job's first try

    document = await shelf.ready()

    assert document.status is DocumentStatus.READY
    assert await shelf.missing() == []
    assert await shelf.job_statuses(EMBED_JOB) == [JobStatus.DONE]


async def test_with_the_embedder_down_for_good_the_document_stays_ready_without_vectors(
    shelf: Shelf,
) -> None:
    shelf.hashing.fail_next(4)  # the ingestion's call and the embedding job's three tries

    document = await shelf.ready()

    assert document.status is DocumentStatus.READY
    assert len(await shelf.missing()) == document.chunk_count
    assert await shelf.job_statuses(EMBED_JOB) == [JobStatus.DEAD]
    found = await shelf.search.search("precio invitación premium", ["faq"])
    assert found[0].chunk.section == "Precios"

    assert (await shelf.ingestion.reindex()).embedded == document.chunk_count
    assert await shelf.missing() == []


async def test_with_the_embedder_refusing_its_requests_a_document_is_ready_lexically() -> None:
    shelf = make_shelf(embedder=RefusingEmbedder())

    document = await shelf.ready()

    assert document.status is DocumentStatus.READY
    assert len(await shelf.missing()) == document.chunk_count
    found = await shelf.search.search("precio invitación premium", ["faq"])
    assert found[0].chunk.section == "Precios"


async def test_without_an_embedder_documents_are_ready_with_no_embedding_job() -> None:
    shelf = make_shelf(without_embedder=True)

    document = await shelf.ready()

    assert document.status is DocumentStatus.READY
    assert await shelf.job_statuses(EMBED_JOB) == []


async def test_reading_that_takes_too_long_fails_the_document() -> None:
    shelf = make_shelf(timeout_seconds=0.01)
    document = await shelf.upload()
    shelf.extractor.gate = Gate()  # never opened

    await shelf.run_jobs()

    failed = await shelf.library.get(document.id)
    assert failed.status is DocumentStatus.FAILED
    assert failed.reason == "reading it took over 0.01 seconds"


async def test_an_embedder_that_takes_too_long_leaves_vectors_for_later() -> None:
    shelf = make_shelf(timeout_seconds=0.01)
    document = await shelf.upload()
    assert shelf.embedder is not None
    shelf.embedder.gate = slow = Gate()

    await shelf.ingestion.ingest(document.id, 1)

    ready = await shelf.library.get(document.id)
    assert ready.status is DocumentStatus.READY
    assert len(await shelf.missing()) == ready.chunk_count
    slow.open()
    await shelf.run_jobs()
    assert await shelf.missing() == []


async def test_a_document_whose_job_gave_up_is_failed_as_stuck(shelf: Shelf) -> None:
    stuck = await shelf.upload()
    shelf.extractor.failure = RuntimeError("the parser crashed")
    await shelf.run_jobs()
    assert await shelf.job_statuses(INGEST_JOB) == [JobStatus.DEAD]
    assert await status_of(shelf, stuck.id) is DocumentStatus.EXTRACTING

    shelf.clock.advance(timedelta(minutes=1))
    failed = await shelf.ingestion.fail_stuck(timedelta(seconds=30))

    assert failed == 1
    settled = await shelf.library.get(stuck.id)
    assert (settled.status, settled.reason) == (DocumentStatus.FAILED, STUCK_REASON)


async def test_a_document_whose_job_still_waits_is_not_stuck(shelf: Shelf) -> None:
    waiting = await shelf.upload()
    shelf.clock.advance(timedelta(hours=1))

    assert await shelf.ingestion.fail_stuck(timedelta(seconds=30)) == 0

    assert await status_of(shelf, waiting.id) is DocumentStatus.QUEUED


async def test_every_ingestion_first_fails_the_stuck_documents(shelf: Shelf) -> None:
    stuck = await shelf.upload("primero")
    shelf.extractor.failure = RuntimeError("the parser crashed")
    await shelf.run_jobs()
    shelf.extractor.failure = None
    shelf.clock.advance(timedelta(hours=1))

    fresh = await shelf.ready("segundo")

    assert fresh.status is DocumentStatus.READY
    assert await status_of(shelf, stuck.id) is DocumentStatus.FAILED
