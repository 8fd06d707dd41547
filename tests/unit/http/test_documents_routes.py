"""Knowledge base routes over the in-memory fakes: staff upload, list, replace and delete
documents and search them; jobs, run here as a worker runs them, bring every upload to
``ready`` or ``failed``.

Every refused call answers a 4xx ``application/problem+json`` naming the field and stores
nothing: the tests compare what the list route shows.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest
from dependency_injector import providers
from docx.document import Document as WordDocument

from adapters.documents.extractor import LocalTextExtractor
from adapters.memory.files import InMemoryFileStore
from entrypoints.container import Container
from talia_core.identity.model import Role
from talia_core.knowledge.ingestion import STUCK_REASON
from talia_core.knowledge.model import (
    MAX_COLLECTION_LENGTH,
    MAX_QUERY_LENGTH,
    MAX_SEARCH_LIMIT,
    MAX_TITLE_LENGTH,
    DocumentKind,
)
from talia_core.knowledge.ports import TextExtractor
from talia_core.knowledge.text import ExtractedText
from talia_core.shared.clock import FakeClock
from talia_core.shared.errors import ExternalServiceUnavailable
from talia_core.shared.files import Download, FileStore
from tests.api import Api, assert_problem, open_api, settings_for_tests
from tests.unit.documents.builders import encrypted, pdf, word, zip_bomb

DOCUMENTS = "/api/documents"
SEARCH = "/api/documents/search"
UNKNOWN_ID = "0190a7a0-0000-7000-8000-00000000dead"
LONG_COLLECTION = "x" * (MAX_COLLECTION_LENGTH + 1)

SHIPPING = (
    "# Envíos\n\n"
    "Las invitaciones impresas llegan a Lima en tres días hábiles.\n\n"
    "## Provincias\n\n"
    "A provincias el courier tarda cinco días hábiles.\n"
).encode()
SHIPPING_FASTER = (
    "# Envíos\n\nDesde marzo las invitaciones impresas llegan a Lima en veinticuatro horas.\n"
).encode()
PRICES = """<!doctype html>
<html><head><title>Lista de precios</title></head><body>
<h1>Lista de precios</h1>
<p>Precios vigentes para todo el año, con IGV incluido.</p>
<table>
  <caption>Invitaciones</caption>
  <tr><th>Producto</th><th>Precio</th><th>Entrega</th></tr>
  <tr><td>Invitación digital animada</td><td>S/ 49</td><td>Mismo día</td></tr>
  <tr><td>Invitación impresa en lino</td><td>S/ 120</td><td>Tres días</td></tr>
  <tr><td>Sobre lacrado</td><td>S/ 8</td><td>Tres días</td></tr>
  <tr><td>Caja de regalo</td><td>S/ 35</td><td>Cinco días</td></tr>
</table>
</body></html>
""".encode()
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
CORRUPT_PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R\nthe rest is missing"


def returns(document: WordDocument) -> None:
    document.add_heading("Cambios y devoluciones", level=1)
    document.add_paragraph(
        "Aceptamos devoluciones de invitaciones impresas dentro de los siete días "
        "siguientes a la entrega, si llegaron dañadas."
    )


class FailingDisk(InMemoryFileStore):
    """A store whose reads fail, every time, as the local one says a broken disk's do."""

    async def get(self, key: str) -> Download:
        raise ExternalServiceUnavailable("local files", f"cannot read {key!r}: I/O error")


class WorkerDied(BaseException):
    """What a worker killed mid-job looks like to the job runner: it never returns."""


class DyingReader(LocalTextExtractor):
    """Recognises files as the real reader does; reading one kills the worker."""

    async def extract(self, content: bytes, kind: DocumentKind) -> ExtractedText:
        raise WorkerDied


@asynccontextmanager
async def documents_api(
    *,
    files: FileStore | None = None,
    reader: TextExtractor | None = None,
    clock: FakeClock | None = None,
    **settings: Any,
) -> AsyncIterator[Api]:
    """The app over the in-memory units, its files held in memory (or in ``files``);
    ``reader`` reads documents instead of the local extractor, ``settings`` override the
    test settings."""

    def install(container: Container) -> None:
        gateways = container.gateways
        gateways.files.override(providers.Object(files or InMemoryFileStore()))
        if reader is not None:
            gateways.text_extractor.override(providers.Object(reader))

    test_settings = settings_for_tests("sqlite+aiosqlite:///:memory:", **settings)
    async with open_api(test_settings, in_memory=True, clock=clock, prepare=install) as opened:
        yield opened


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    async with documents_api() as opened:
        yield opened


@pytest.fixture
async def admin(api: Api) -> dict[str, str]:
    _, headers = await api.user(Role.ADMIN)
    return headers


async def upload(
    api: Api,
    headers: dict[str, str],
    content: bytes,
    *,
    filename: str = "envios.md",
    collection: str = "guia",
    **fields: str,
) -> Any:
    """The raw response to an upload of ``content``."""
    return await api.client.post(
        DOCUMENTS,
        files={"file": (filename, content, "application/octet-stream")},
        data={"collection": collection, **fields},
        headers=headers,
    )


async def uploaded(api: Api, headers: dict[str, str], content: bytes, **fields: Any) -> Any:
    response = await upload(api, headers, content, **fields)
    assert response.status_code == 201, response.text
    return response.json()


async def replace(
    api: Api, headers: dict[str, str], document_id: str, content: bytes, filename: str = "v2.md"
) -> Any:
    """The raw response to replacing the document's file with ``content``."""
    return await api.client.put(
        f"{DOCUMENTS}/{document_id}",
        files={"file": (filename, content, "application/octet-stream")},
        headers=headers,
    )


async def run_jobs(api: Api) -> None:
    runner = api.container.use_cases.job_runner()
    while await runner.run_due(100):
        pass


async def fetched(api: Api, headers: dict[str, str], document_id: str) -> Any:
    response = await api.client.get(f"{DOCUMENTS}/{document_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def listed(api: Api, headers: dict[str, str], query: str = "") -> list[Any]:
    response = await api.client.get(f"{DOCUMENTS}?limit=200{query}", headers=headers)
    assert response.status_code == 200, response.text
    items: list[Any] = response.json()["items"]
    return items


async def search(api: Api, headers: dict[str, str], query: str, **fields: Any) -> list[Any]:
    response = await api.client.post(SEARCH, json={"query": query, **fields}, headers=headers)
    assert response.status_code == 200, response.text
    found: list[Any] = response.json()
    return found


async def test_an_upload_is_queued_then_ready_with_its_chunks(
    api: Api, admin: dict[str, str]
) -> None:
    admin_id = (await api.client.get("/api/auth/me", headers=admin)).json()["id"]

    document = await uploaded(api, admin, SHIPPING)

    assert document["status"] == "queued"
    assert (document["collection"], document["title"]) == ("guia", "envios")
    assert (document["filename"], document["kind"]) == ("envios.md", "markdown")
    assert (document["size"], document["revision"]) == (len(SHIPPING), 1)
    assert (document["uploaded_by"], document["chunk_count"], document["reason"]) == (
        admin_id,
        0,
        None,
    )
    await run_jobs(api)
    ready = await fetched(api, admin, document["id"])
    assert ready["status"] == "ready"
    assert ready["chunk_count"] >= 1
    assert ready["reason"] is None


async def test_the_same_bytes_again_are_the_same_document(api: Api, admin: dict[str, str]) -> None:
    first = await uploaded(api, admin, SHIPPING)

    again = await upload(api, admin, SHIPPING, filename="copia.md", title="Otra")

    assert again.status_code == 200, again.text
    assert again.json()["id"] == first["id"]
    assert again.json()["title"] == "envios"
    assert [d["id"] for d in await listed(api, admin)] == [first["id"]]


async def test_the_same_bytes_in_another_collection_are_another_document(
    api: Api, admin: dict[str, str]
) -> None:
    first = await uploaded(api, admin, SHIPPING)

    other = await uploaded(api, admin, SHIPPING, collection="ventas")

    assert other["id"] != first["id"]


async def test_the_list_shows_every_collection_or_only_the_one_named(
    api: Api, admin: dict[str, str]
) -> None:
    shipping = await uploaded(api, admin, SHIPPING, title="Envíos")
    prices = await uploaded(api, admin, PRICES, filename="precios.html", collection="ventas")

    everything = await listed(api, admin)
    sales = await listed(api, admin, "&collection=ventas")

    assert {d["id"] for d in everything} == {shipping["id"], prices["id"]}
    assert [d["id"] for d in sales] == [prices["id"]]
    assert await listed(api, admin, "&collection=nadie") == []


async def test_an_agent_uploads_and_reads_documents_too(api: Api) -> None:
    _, agent = await api.user(Role.AGENT)

    document = await uploaded(api, agent, SHIPPING)

    assert (await fetched(api, agent, document["id"]))["id"] == document["id"]


async def test_a_word_document_is_read_and_found(api: Api, admin: dict[str, str]) -> None:
    document = await uploaded(api, admin, word(returns), filename="politicas.docx")
    await run_jobs(api)

    [found] = await search(api, admin, "devoluciones de invitaciones dañadas", limit=1)

    assert document["kind"] == "docx"
    assert (await fetched(api, admin, document["id"]))["status"] == "ready"
    assert found["document_id"] == document["id"]
    assert found["section"] == "Cambios y devoluciones"
    assert found["source"] == "politicas > Cambios y devoluciones"
    assert "siete días" in found["text"]


async def test_a_passage_cites_its_title_and_section_without_saying_the_title_twice(
    api: Api, admin: dict[str, str]
) -> None:
    await uploaded(api, admin, SHIPPING, title="Envíos")
    await run_jobs(api)

    [found] = await search(api, admin, "courier a provincias", limit=1)

    assert (found["title"], found["section"]) == ("Envíos", "Envíos > Provincias")
    assert found["source"] == "Envíos > Provincias"


async def test_a_price_question_finds_the_row_of_the_price_table(
    api: Api, admin: dict[str, str]
) -> None:
    prices = await uploaded(api, admin, PRICES, filename="precios.html")
    await uploaded(api, admin, SHIPPING)
    await run_jobs(api)

    [best, *_] = await search(api, admin, "¿cuánto cuesta la invitación impresa en lino?")

    assert best["document_id"] == prices["id"]
    assert "Invitación impresa en lino" in best["text"]
    assert "S/ 120" in best["text"]
    assert "Precio" in best["text"]


async def test_a_replacement_is_the_next_revision_and_searches_find_only_its_text(
    api: Api, admin: dict[str, str]
) -> None:
    document = await uploaded(api, admin, SHIPPING)
    await run_jobs(api)

    response = await replace(api, admin, document["id"], SHIPPING_FASTER, "envios-2025.md")

    assert response.status_code == 200, response.text
    replaced = response.json()
    assert (replaced["id"], replaced["revision"], replaced["status"]) == (
        document["id"],
        2,
        "queued",
    )
    assert replaced["filename"] == "envios-2025.md"
    await run_jobs(api)
    assert (await fetched(api, admin, document["id"]))["status"] == "ready"
    texts = [p["text"] for p in await search(api, admin, "invitaciones impresas Lima días")]
    assert any("veinticuatro horas" in text for text in texts)
    assert not any("tres días hábiles" in text for text in texts)
    assert await search(api, admin, "courier provincias") == []


async def test_until_a_replacement_is_ready_searches_find_the_earlier_text(
    api: Api, admin: dict[str, str]
) -> None:
    document = await uploaded(api, admin, SHIPPING)
    await run_jobs(api)

    await replace(api, admin, document["id"], SHIPPING_FASTER)

    [found, *_] = await search(api, admin, "courier provincias")
    assert found["document_id"] == document["id"]
    assert (await fetched(api, admin, document["id"]))["status"] == "queued"


async def test_a_replacement_with_the_bytes_of_another_document_is_a_conflict(
    api: Api, admin: dict[str, str]
) -> None:
    document = await uploaded(api, admin, SHIPPING)
    await uploaded(api, admin, SHIPPING_FASTER)
    await run_jobs(api)

    response = await replace(api, admin, document["id"], SHIPPING_FASTER)

    assert_problem(response, 409)
    unchanged = await fetched(api, admin, document["id"])
    assert (unchanged["revision"], unchanged["status"]) == (1, "ready")


async def test_a_replacement_that_is_no_document_is_refused_and_the_document_stays(
    api: Api, admin: dict[str, str]
) -> None:
    document = await uploaded(api, admin, SHIPPING)
    await run_jobs(api)

    response = await replace(api, admin, document["id"], PNG, filename="envios.md")

    assert_problem(response, 422, "file")
    unchanged = await fetched(api, admin, document["id"])
    assert (unchanged["revision"], unchanged["status"], unchanged["kind"]) == (
        1,
        "ready",
        "markdown",
    )
    assert await search(api, admin, "courier provincias")


async def test_the_same_bytes_as_a_replacement_change_nothing(
    api: Api, admin: dict[str, str]
) -> None:
    document = await uploaded(api, admin, SHIPPING)
    await run_jobs(api)
    ready = await fetched(api, admin, document["id"])

    response = await replace(api, admin, document["id"], SHIPPING, filename="otra.md")

    assert response.status_code == 200, response.text
    assert response.json() == ready


async def test_a_document_deleted_before_its_ingestion_leaves_nothing_behind(
    api: Api, admin: dict[str, str]
) -> None:
    document = await uploaded(api, admin, SHIPPING)

    deleted = await api.client.delete(f"{DOCUMENTS}/{document['id']}", headers=admin)
    await run_jobs(api)

    assert deleted.status_code == 204, deleted.text
    assert await listed(api, admin) == []
    assert await search(api, admin, "courier provincias", collections=["guia"]) == []
    assert api.container.gateways.files().keys() == []


async def test_a_deleted_document_is_gone_and_no_search_finds_it(
    api: Api, admin: dict[str, str]
) -> None:
    document = await uploaded(api, admin, SHIPPING)
    await run_jobs(api)
    assert await search(api, admin, "courier provincias")

    response = await api.client.delete(f"{DOCUMENTS}/{document['id']}", headers=admin)

    assert response.status_code == 204, response.text
    gone = await api.client.get(f"{DOCUMENTS}/{document['id']}", headers=admin)
    assert_problem(gone, 404)
    assert await search(api, admin, "courier provincias") == []
    assert await listed(api, admin) == []
    assert api.container.gateways.files().keys() == []


async def test_a_search_names_collections_or_looks_in_all(api: Api, admin: dict[str, str]) -> None:
    shipping = await uploaded(api, admin, SHIPPING)
    prices = await uploaded(api, admin, PRICES, filename="precios.html", collection="ventas")
    await run_jobs(api)
    query = "invitaciones impresas"

    everywhere = await search(api, admin, query, limit=10)
    in_guide = await search(api, admin, query, collections=["guia"], limit=10)
    nowhere = await search(api, admin, query, collections=[])

    assert {p["document_id"] for p in everywhere} == {shipping["id"], prices["id"]}
    assert {p["document_id"] for p in in_guide} == {shipping["id"]}
    assert {p["collection"] for p in in_guide} == {"guia"}
    assert nowhere == []


async def test_a_search_answers_at_most_the_limit_asked(api: Api, admin: dict[str, str]) -> None:
    await uploaded(api, admin, SHIPPING)
    await uploaded(api, admin, PRICES, filename="precios.html")
    await run_jobs(api)

    found = await search(api, admin, "invitaciones", limit=1)

    assert len(found) == 1


SWEPT = {"jobs": {"retry_attempts": 2}, "knowledge": {"ingest_timeout_seconds": 60}}
"""Two attempts per job; a sweep a minute after each ingestion starts."""


async def test_a_document_whose_ingestion_keeps_failing_ends_failed_not_stuck() -> None:
    clock = FakeClock()
    async with documents_api(files=FailingDisk(), clock=clock, **SWEPT) as api:
        _, admin = await api.user(Role.ADMIN)
        document = await uploaded(api, admin, SHIPPING)

        for _ in range(3):
            await run_jobs(api)
            clock.advance(timedelta(minutes=2))
        await run_jobs(api)

        failed = await fetched(api, admin, document["id"])
        assert (failed["status"], failed["reason"]) == ("failed", STUCK_REASON)


async def test_a_document_whose_workers_die_reading_it_ends_failed_not_stuck() -> None:
    clock = FakeClock()
    async with documents_api(reader=DyingReader(), clock=clock, **SWEPT) as api:
        _, admin = await api.user(Role.ADMIN)
        document = await uploaded(api, admin, SHIPPING)

        for _ in range(2):  # each attempt's worker dies; its lease (5 minutes) runs out
            with pytest.raises(WorkerDied):
                await run_jobs(api)
            clock.advance(timedelta(minutes=6))
        await run_jobs(api)  # the job is out of attempts; the sweep fails the document

        failed = await fetched(api, admin, document["id"])
        assert (failed["status"], failed["reason"]) == ("failed", STUCK_REASON)


@pytest.mark.parametrize(
    ("content", "filename"),
    [
        (CORRUPT_PDF, "roto.pdf"),
        (pdf([]), "escaneo.pdf"),
        (encrypted(pdf(["Precios secretos"]), user_password="clave"), "cifrado.pdf"),
        (zip_bomb(120), "bomba.docx"),
        (b" \n\t\n", "blanco.txt"),
    ],
    ids=["corrupt-pdf", "pdf-without-text", "encrypted-pdf", "zip-bomb-docx", "blank-text"],
)
async def test_a_file_that_cannot_be_read_is_accepted_then_fails_with_the_reason(
    api: Api, admin: dict[str, str], content: bytes, filename: str
) -> None:
    document = await uploaded(api, admin, content, filename=filename)

    await run_jobs(api)

    failed = await fetched(api, admin, document["id"])
    assert (failed["status"], failed["chunk_count"]) == ("failed", 0)
    assert failed["reason"]
    assert await search(api, admin, "precios secretos invitaciones") == []


async def test_a_pdf_passage_says_its_page(api: Api, admin: dict[str, str]) -> None:
    welcome = [
        f"Bienvenida, línea {n}: diseñamos invitaciones para cada ocasión." for n in range(40)
    ]
    hours = ["La tienda atiende de lunes a sábado, de nueve a diecinueve horas."]
    document = await uploaded(api, admin, pdf(welcome, hours), filename="tienda.pdf")
    await run_jobs(api)

    [found] = await search(api, admin, "¿qué días atiende la tienda?", limit=1)

    assert (await fetched(api, admin, document["id"]))["pages"] == 2
    assert found["document_id"] == document["id"]
    assert "lunes a sábado" in found["text"]
    assert found["page"] == 2


@pytest.mark.parametrize(
    ("content", "filename"),
    [
        (b"", "vacio.md"),
        (PNG, "precios.pdf"),
        (b"PK\x03\x04" + b"\x00" * 60, "guia.docx"),
    ],
    ids=["empty", "png-named-pdf", "broken-zip-named-docx"],
)
async def test_a_file_that_is_no_document_is_refused_naming_the_file(
    api: Api, admin: dict[str, str], content: bytes, filename: str
) -> None:
    response = await upload(api, admin, content, filename=filename)

    assert_problem(response, 422, "file")
    assert await listed(api, admin) == []


async def test_a_file_over_the_configured_size_is_refused() -> None:
    async with documents_api(knowledge={"max_bytes": 1024}) as api:
        _, admin = await api.user(Role.ADMIN)

        response = await upload(api, admin, b"# Grande\n\n" + b"palabra " * 200)

        assert_problem(response, 422, "file")
        assert "1024" in response.json()["detail"]
        assert await listed(api, admin) == []
        assert (await upload(api, admin, SHIPPING)).status_code == 201


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"collection": ""}, "collection"),
        ({"collection": "Guía Precios"}, "collection"),
        ({"collection": "guia/../otra"}, "collection"),
        ({"collection": LONG_COLLECTION}, "collection"),
        ({"title": "t" * (MAX_TITLE_LENGTH + 1)}, "title"),
    ],
    ids=["blank", "spaces-and-accents", "path", "too-long", "title-too-long"],
)
async def test_an_upload_with_a_bad_collection_or_title_is_refused_naming_it(
    api: Api, admin: dict[str, str], fields: dict[str, str], field: str
) -> None:
    response = await upload(api, admin, SHIPPING, **fields)

    assert_problem(response, 422, field)
    assert await listed(api, admin) == []


async def test_an_upload_without_a_file_is_a_bad_request(api: Api, admin: dict[str, str]) -> None:
    response = await api.client.post(
        DOCUMENTS,
        files={"other": ("x.md", SHIPPING, "text/markdown")},
        data={"collection": "guia"},
        headers=admin,
    )

    assert_problem(response, 400)
    assert await listed(api, admin) == []


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"query": "x" * (MAX_QUERY_LENGTH + 1)}, 422, "query"),
        ({"query": "   "}, 422, "query"),
        ({}, 400, "query"),
        ({"query": "envíos", "limit": 0}, 400, "limit"),
        ({"query": "envíos", "limit": MAX_SEARCH_LIMIT + 1}, 400, "limit"),
        ({"query": "envíos", "limit": "5"}, 400, "limit"),
        ({"query": "envíos", "collections": ["No Es Slug"]}, 422, "collections"),
        ({"query": "envíos", "collections": [LONG_COLLECTION]}, 422, "collections"),
        ({"query": "envíos", "collections": "guia"}, 400, "collections"),
    ],
    ids=[
        "query-too-long",
        "blank-query",
        "no-query",
        "limit-0",
        "limit-over",
        "limit-as-text",
        "collection-no-slug",
        "collection-too-long",
        "collections-not-a-list",
    ],
)
async def test_a_bad_search_is_refused_naming_the_field(
    api: Api, admin: dict[str, str], body: dict[str, Any], status: int, field: str
) -> None:
    response = await api.client.post(SEARCH, json=body, headers=admin)

    assert_problem(response, status, field)


async def test_customers_may_not_use_the_knowledge_base(api: Api) -> None:
    _, customer = await api.user(Role.CUSTOMER)

    for response in (
        await upload(api, customer, SHIPPING),
        await api.client.get(DOCUMENTS, headers=customer),
        await api.client.delete(f"{DOCUMENTS}/{UNKNOWN_ID}", headers=customer),
        await api.client.post(SEARCH, json={"query": "envíos"}, headers=customer),
    ):
        assert_problem(response, 403)


async def test_anonymous_callers_are_asked_to_sign_in(api: Api, admin: dict[str, str]) -> None:
    for response in (
        await upload(api, {}, SHIPPING),
        await api.client.get(DOCUMENTS),
        await api.client.get(f"{DOCUMENTS}/{UNKNOWN_ID}"),
        await api.client.delete(f"{DOCUMENTS}/{UNKNOWN_ID}"),
        await api.client.post(SEARCH, json={"query": "envíos"}),
    ):
        assert_problem(response, 401)
    assert await listed(api, admin) == []


async def test_an_unknown_document_is_not_found(api: Api, admin: dict[str, str]) -> None:
    for response in (
        await api.client.get(f"{DOCUMENTS}/{UNKNOWN_ID}", headers=admin),
        await api.client.delete(f"{DOCUMENTS}/{UNKNOWN_ID}", headers=admin),
        await replace(api, admin, UNKNOWN_ID, SHIPPING),
    ):
        assert_problem(response, 404)
