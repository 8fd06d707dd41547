"""One contract for the knowledge repositories: the in-memory fake and SQL on every database,
PostgreSQL with pgvector too."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from talia_core.knowledge.model import Chunk, Document, DocumentKind, DocumentStatus
from talia_core.shared.errors import Conflict, NotFound
from talia_core.shared.ids import new_id
from talia_core.shared.pagination import PageRequest
from tests.conftest import UowFactory
from tests.databases import BACKENDS, PGVECTOR

pytestmark = pytest.mark.parametrize("uow_factory", ["memory", *BACKENDS, PGVECTOR], indirect=True)

T0 = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)
ADMIN = "0190a7a0-0000-7000-8000-000000000001"
MODEL, OTHER_MODEL = "all-minilm-l6-v2", "text-embedding-3-small"

PRICE_ROWS = (
    "Lista de precios\nProducto: Invitación digital | Precio: S/ 35",
    "Lista de precios\nProducto: Tarjeta impresa | Precio: S/ 4 por unidad",
)


def _document(collection: str = "faq", content: str = "v1", *, at: datetime = T0) -> Document:
    return Document.new(
        collection=collection,
        title=f"Guía {content}",
        filename=f"{content}.md",
        kind=DocumentKind.MARKDOWN,
        size=len(content),
        content_hash=hashlib.sha256(content.encode()).hexdigest(),
        uploaded_by=ADMIN,
        at=at,
    )


def _chunks(document: Document, *texts: str, section: str = "") -> list[Chunk]:
    return [
        Chunk(new_id(), document.id, document.collection, position, text, section, page=1)
        for position, text in enumerate(texts)
    ]


async def _store(uow_factory: UowFactory, document: Document, *texts: str) -> list[Chunk]:
    chunks = _chunks(document, *texts)
    async with uow_factory() as uow:
        await uow.documents.add(document)
        await uow.chunks.replace(document.id, chunks)
        await uow.commit()
    return chunks


async def _lexical(
    uow_factory: UowFactory, query: str, collections: Sequence[str] = ("faq",), limit: int = 10
) -> list[str]:
    async with uow_factory(read_only=True) as uow:
        return [p.chunk.text for p in await uow.chunks.lexical(query, collections, limit)]


async def _put(uow_factory: UowFactory, model: str, vectors: dict[str, list[float]]) -> None:
    async with uow_factory() as uow:
        await uow.vectors.put(model, vectors)
        await uow.commit()


async def _nearest(
    uow_factory: UowFactory,
    vector: list[float],
    collections: Sequence[str] = ("faq",),
    model: str = MODEL,
    limit: int = 10,
) -> list[tuple[str, float]]:
    async with uow_factory(read_only=True) as uow:
        found = await uow.vectors.nearest(model, vector, collections, limit)
    return [(p.chunk.id, p.score) for p in found]


# Documents


async def test_a_document_reads_back_equal_by_id_and_by_hash(uow_factory: UowFactory) -> None:
    document = _document()
    document.advance(DocumentStatus.EXTRACTING, T0)
    document.fail("la página 3 está cifrada 🔒", T0 + timedelta(seconds=1))
    async with uow_factory() as uow:
        await uow.documents.add(document)
        await uow.commit()

    async with uow_factory(read_only=True) as uow:
        assert await uow.documents.get(document.id) == document
        assert await uow.documents.by_hash("faq", document.content_hash) == document
        assert await uow.documents.by_hash("otra", document.content_hash) is None


async def test_an_unknown_document_is_not_found(uow_factory: UowFactory) -> None:
    async with uow_factory(read_only=True) as uow:
        with pytest.raises(NotFound):
            await uow.documents.get("0190a7a0-0000-7000-8000-00000000dead")


async def test_the_same_bytes_twice_in_a_collection_are_a_conflict(
    uow_factory: UowFactory,
) -> None:
    async with uow_factory() as uow:
        await uow.documents.add(_document("faq", "precios"))
        await uow.documents.add(_document("ventas", "precios"))
        await uow.commit()

    with pytest.raises(Conflict):
        async with uow_factory() as uow:
            await uow.documents.add(_document("faq", "precios"))


async def test_an_update_keeps_the_new_state_and_refuses_a_taken_hash(
    uow_factory: UowFactory,
) -> None:
    first, second = _document(content="uno"), _document(content="dos")
    async with uow_factory() as uow:
        await uow.documents.add(first)
        await uow.documents.add(second)
        await uow.commit()

    async with uow_factory() as uow:
        stored = await uow.documents.get(first.id)
        stored.replace(
            filename="tres.pdf",
            kind=DocumentKind.PDF,
            size=3_000_000_000,
            content_hash=hashlib.sha256(b"tres").hexdigest(),
            at=T0 + timedelta(hours=1),
        )
        stored.advance(DocumentStatus.EXTRACTING, T0 + timedelta(hours=1))
        stored.extracted(12, T0 + timedelta(hours=2))
        stored.indexed(40, T0 + timedelta(hours=3))
        await uow.documents.update(stored)
        await uow.commit()
    async with uow_factory(read_only=True) as uow:
        assert await uow.documents.get(first.id) == stored

    with pytest.raises(Conflict):
        async with uow_factory() as uow:
            clash = await uow.documents.get(first.id)
            clash.replace(
                filename="dos.md",
                kind=DocumentKind.MARKDOWN,
                size=3,
                content_hash=second.content_hash,
                at=T0 + timedelta(hours=4),
            )
            await uow.documents.update(clash)


async def test_documents_are_listed_newest_first_in_every_collection_or_one(
    uow_factory: UowFactory,
) -> None:
    documents = [
        _document("faq", "a", at=T0),
        _document("ventas", "b", at=T0 + timedelta(minutes=1)),
        _document("faq", "c", at=T0 + timedelta(minutes=2)),
    ]
    async with uow_factory() as uow:
        for document in documents:
            await uow.documents.add(document)
        await uow.commit()

    async with uow_factory(read_only=True) as uow:
        everything = await uow.documents.find(PageRequest())
        faq = await uow.documents.find(PageRequest(limit=1), collection="faq")
        past_the_end = await uow.documents.find(PageRequest(offset=5), collection="faq")

    assert [d.id for d in everything.items] == [d.id for d in reversed(documents)]
    assert everything.total == 3
    assert [d.id for d in faq.items] == [documents[2].id]
    assert faq.total == 2
    assert past_the_end.items == []
    assert past_the_end.total == 2


async def test_the_collections_are_those_holding_a_document_each_named_once_sorted(
    uow_factory: UowFactory,
) -> None:
    async with uow_factory(read_only=True) as uow:
        assert await uow.documents.collections() == []
    gone = _document("archivo", "z")
    async with uow_factory() as uow:
        for document in (_document("ventas", "b"), _document("faq", "a"), _document("faq", "c")):
            await uow.documents.add(document)
        await uow.documents.add(gone)
        await uow.commit()
    async with uow_factory() as uow:
        await uow.documents.remove(gone.id)
        await uow.commit()

    async with uow_factory(read_only=True) as uow:
        assert await uow.documents.collections() == ["faq", "ventas"]


async def test_unsettled_documents_older_than_a_moment_are_found_oldest_first(
    uow_factory: UowFactory,
) -> None:
    queued = _document(content="queued", at=T0)
    extracting = _document(content="extracting", at=T0 + timedelta(minutes=1))
    extracting.advance(DocumentStatus.EXTRACTING, T0 + timedelta(minutes=1))
    recent = _document(content="recent", at=T0 + timedelta(minutes=30))
    ready = _document(content="ready", at=T0)
    ready.advance(DocumentStatus.EXTRACTING, T0)
    ready.extracted(1, T0)
    ready.indexed(3, T0)
    failed = _document(content="failed", at=T0)
    failed.fail("no text", T0)
    async with uow_factory() as uow:
        for document in (recent, ready, extracting, failed, queued):
            await uow.documents.add(document)
        await uow.commit()

    async with uow_factory(read_only=True) as uow:
        stuck = await uow.documents.unsettled_since(T0 + timedelta(minutes=10), limit=10)
        first = await uow.documents.unsettled_since(T0 + timedelta(minutes=10), limit=1)

    assert [d.id for d in stuck] == [queued.id, extracting.id]
    assert [d.id for d in first] == [queued.id]


async def test_removing_a_document_removes_its_chunks_and_their_vectors(
    uow_factory: UowFactory,
) -> None:
    gone, kept = _document(content="gone"), _document(content="kept")
    gone_chunks = await _store(uow_factory, gone, "Horario de atención: 9 a 18 horas")
    kept_chunks = await _store(uow_factory, kept, "Horario de verano: 10 a 14 horas")
    await _put(uow_factory, MODEL, {c.id: [1.0, 0.0] for c in gone_chunks + kept_chunks})

    async with uow_factory() as uow:
        await uow.documents.remove(gone.id)
        await uow.commit()

    async with uow_factory(read_only=True) as uow:
        with pytest.raises(NotFound):
            await uow.documents.get(gone.id)
        assert await uow.chunks.count() == 1
    assert await _lexical(uow_factory, "horario") == ["Horario de verano: 10 a 14 horas"]
    assert [chunk for chunk, _ in await _nearest(uow_factory, [1.0, 0.0])] == [kept_chunks[0].id]
    async with uow_factory() as uow:
        assert await uow.vectors.forget_other_models(OTHER_MODEL) == 1


# Chunks


async def test_a_found_chunk_reads_back_whole_with_its_title_and_a_score(
    uow_factory: UowFactory,
) -> None:
    document = _document()
    text = "Pagos > Reembolsos\nDevolvemos en 10 días."
    chunk = Chunk(new_id(), document.id, "faq", 7, text, "Pagos > Reembolsos", page=4)
    async with uow_factory() as uow:
        await uow.documents.add(document)
        await uow.chunks.replace(document.id, [chunk])
        await uow.commit()

    async with uow_factory(read_only=True) as uow:
        [found] = await uow.chunks.lexical("reembolsos", ["faq"], 5)
        assert await uow.chunks.count() == 1

    assert found.chunk == chunk
    assert found.title == document.title
    assert found.source == f"{document.title} > Pagos > Reembolsos"
    assert found.score > 0


async def test_replacing_swaps_every_chunk_and_forgets_the_old_vectors(
    uow_factory: UowFactory,
) -> None:
    document = _document()
    old = await _store(uow_factory, document, "Envíos a Lima en 24 horas", "Envíos al Cusco")
    await _put(uow_factory, MODEL, {c.id: [0.0, 1.0] for c in old})
    new = _chunks(document, "Recojo en tienda gratuito")

    async with uow_factory() as uow:
        await uow.chunks.replace(document.id, new)
        await uow.commit()

    assert await _lexical(uow_factory, "envíos lima cusco recojo") == ["Recojo en tienda gratuito"]
    assert await _nearest(uow_factory, [0.0, 1.0]) == []
    async with uow_factory(read_only=True) as uow:
        assert await uow.chunks.count() == 1
        assert [c.id for c in await uow.vectors.missing(MODEL, 10)] == [new[0].id]


async def test_a_replacement_is_seen_whole_once_committed_and_not_at_all_before(
    uow_factory: UowFactory,
) -> None:
    document = _document()
    await _store(uow_factory, document, "Formas de pago: Yape y tarjeta")

    async with uow_factory() as uow:
        await uow.chunks.replace(document.id, _chunks(document, "Formas de pago: Plin"))
        assert await _lexical(uow_factory, "pago") == ["Formas de pago: Yape y tarjeta"]
        # Leaving without commit rolls the replacement back.
    assert await _lexical(uow_factory, "pago") == ["Formas de pago: Yape y tarjeta"]


async def test_chunks_of_an_unknown_document_are_a_conflict(uow_factory: UowFactory) -> None:
    never_added = _document()
    with pytest.raises(Conflict):
        async with uow_factory() as uow:
            await uow.chunks.replace(never_added.id, _chunks(never_added, "Sin documento"))


async def test_removing_chunks_leaves_the_document(uow_factory: UowFactory) -> None:
    document = _document()
    await _store(uow_factory, document, "Garantía de un año")

    async with uow_factory() as uow:
        await uow.chunks.remove(document.id)
        await uow.commit()

    assert await _lexical(uow_factory, "garantía") == []
    async with uow_factory(read_only=True) as uow:
        assert await uow.chunks.count() == 0
        assert (await uow.documents.get(document.id)).id == document.id


@pytest.mark.parametrize(
    ("query", "text"),
    [
        ("cuanto cuesta", "¿Cuánto cuesta el envío?"),
        ("¿Cuánto tarda?", "cuanto tarda la entrega"),
        ("DEVOLUCION", "Política de devolución"),
        ("¿Hay devolución?", "Aceptamos devolucion en 7 dias"),
        ("invitacion digital", PRICE_ROWS[0]),
    ],
)
async def test_words_match_with_or_without_accents_and_in_any_case(
    uow_factory: UowFactory, query: str, text: str
) -> None:
    await _store(uow_factory, _document(), text, "Horarios de atención de la tienda")

    assert await _lexical(uow_factory, query) == [text]


@pytest.mark.parametrize(
    ("query", "text"),
    [
        ("envios", "Hacemos envío a Lima"),
        ("¿Aceptan devoluciones?", "Política de devolución"),
        ("¿cuánto demoran?", "La demora habitual es de tres días"),
        ("invitaciones impresas", "Invitación impresa en papel de algodón"),
    ],
)
async def test_a_word_finds_the_other_forms_of_itself(
    uow_factory: UowFactory, query: str, text: str
) -> None:
    await _store(uow_factory, _document(), text, "Horarios de atención de la tienda")

    assert await _lexical(uow_factory, query) == [text]


async def test_a_question_finds_the_table_row_that_answers_it_first(
    uow_factory: UowFactory,
) -> None:
    await _store(uow_factory, _document(), *PRICE_ROWS, "Tarjetas de regalo para boda")

    found = await _lexical(uow_factory, "¿Cuánto cuesta la tarjeta impresa?")

    assert found[0] == PRICE_ROWS[1]


async def test_passages_with_more_of_the_words_come_first_with_higher_scores(
    uow_factory: UowFactory,
) -> None:
    texts = (
        "Entregas en provincia con courier",
        "Entregas en Lima el mismo día con courier propio",
        "Diseños personalizados para bodas",
        "Cambios de diseño antes de imprimir",
    )
    await _store(uow_factory, _document(), *texts)

    async with uow_factory(read_only=True) as uow:
        found = await uow.chunks.lexical("entregas Lima mismo día", ["faq"], 10)

    assert [p.chunk.text for p in found] == [texts[1], texts[0]]
    assert found[0].score > found[1].score


async def test_collections_filter_the_search_before_the_limit(uow_factory: UowFactory) -> None:
    # "faq-ventas" starts with the allowed collection's name, a word of its own.
    flood = [f"Precio de envío express número {n}: envío precio express" for n in range(60)]
    await _store(uow_factory, _document("faq-ventas", "flood"), *flood)
    await _store(uow_factory, _document("faq", "faq"), "El precio incluye el sobre")

    assert await _lexical(uow_factory, "precio envío express", ["faq"], 3) == [
        "El precio incluye el sobre"
    ]
    assert len(await _lexical(uow_factory, "precio", ["faq", "faq-ventas"], 5)) == 5
    assert await _lexical(uow_factory, "precio", ["ventas", "faq ventas"]) == []
    assert await _lexical(uow_factory, "precio", []) == []


@pytest.mark.parametrize("query", ['"* OR (', "NEAR(a b) AND -", "' ; -- %", "  ", "¿?¡!"])
async def test_a_query_without_a_searchable_word_finds_nothing(
    uow_factory: UowFactory, query: str
) -> None:
    await _store(uow_factory, _document(), "Consultas frecuentes sobre pedidos")

    assert await _lexical(uow_factory, query) == []


async def test_the_query_syntax_of_an_engine_is_read_as_plain_words(
    uow_factory: UowFactory,
) -> None:
    await _store(uow_factory, _document(), "Pedidos urgentes*", "Catálogo de sobres")

    found = await _lexical(uow_factory, 'pedidos" OR catálogo* NEAR(')

    assert sorted(found) == ["Catálogo de sobres", "Pedidos urgentes*"]


# Vectors


async def test_the_nearest_vectors_come_best_first_by_cosine(uow_factory: UowFactory) -> None:
    same, close, far = await _store(uow_factory, _document(), "uno", "dos", "tres")
    await _put(
        uow_factory,
        MODEL,
        {same.id: [2.0, 0.0, 0.0], close.id: [1.0, 1.0, 0.0], far.id: [-1.0, 0.0, 0.0]},
    )

    found = await _nearest(uow_factory, [1.0, 0.0, 0.0])
    top = await _nearest(uow_factory, [1.0, 0.0, 0.0], limit=1)

    assert [chunk for chunk, _ in found] == [same.id, close.id, far.id]
    assert [score for _, score in found] == pytest.approx([1.0, 0.7071068, -1.0], abs=1e-6)
    assert [chunk for chunk, _ in top] == [same.id]


async def test_a_nearest_passage_reads_back_whole_with_its_title(uow_factory: UowFactory) -> None:
    document = _document()
    [chunk] = await _store(uow_factory, document, "Horarios")
    await _put(uow_factory, MODEL, {chunk.id: [0.6, 0.8]})

    async with uow_factory(read_only=True) as uow:
        [found] = await uow.vectors.nearest(MODEL, [0.6, 0.8], ["faq"], 5)

    assert found.chunk == chunk
    assert found.title == document.title


async def test_putting_a_vector_again_overwrites_it(uow_factory: UowFactory) -> None:
    [chunk] = await _store(uow_factory, _document(), "uno")
    await _put(uow_factory, MODEL, {chunk.id: [1.0, 0.0]})
    await _put(uow_factory, MODEL, {chunk.id: [0.0, 1.0]})

    assert await _nearest(uow_factory, [0.0, 1.0]) == [(chunk.id, pytest.approx(1.0))]


async def test_a_vector_for_an_unknown_chunk_is_a_conflict(uow_factory: UowFactory) -> None:
    with pytest.raises(Conflict):
        await _put(uow_factory, MODEL, {"0190a7a0-0000-7000-8000-00000000dead": [1.0]})


async def test_vectors_of_other_models_collections_or_sizes_are_never_returned(
    uow_factory: UowFactory,
) -> None:
    [faq] = await _store(uow_factory, _document("faq", "faq"), "faq")
    flood = await _store(uow_factory, _document("ventas", "v"), *[f"v{n}" for n in range(30)])
    await _put(uow_factory, MODEL, {faq.id: [0.0, 1.0]} | {c.id: [1.0, 0.0] for c in flood})
    await _put(uow_factory, OTHER_MODEL, {faq.id: [1.0, 0.0, 0.0]})

    assert [chunk for chunk, _ in await _nearest(uow_factory, [1.0, 0.0], limit=1)] == [faq.id]
    assert await _nearest(uow_factory, [1.0, 0.0, 0.0]) == []
    assert await _nearest(uow_factory, [1.0, 0.0], collections=[]) == []
    assert await _nearest(uow_factory, [1.0, 0.0], model="unknown") == []
    assert [c for c, _ in await _nearest(uow_factory, [1.0, 0.0, 0.0], model=OTHER_MODEL)] == [
        faq.id
    ]


async def test_a_vector_written_after_a_search_is_found_by_the_next_search(
    uow_factory: UowFactory,
) -> None:
    first, second = await _store(uow_factory, _document(), "uno", "dos")
    await _put(uow_factory, MODEL, {first.id: [0.0, 1.0]})
    assert [chunk for chunk, _ in await _nearest(uow_factory, [1.0, 0.0])] == [first.id]

    await _put(uow_factory, MODEL, {second.id: [1.0, 0.0]})

    assert [chunk for chunk, _ in await _nearest(uow_factory, [1.0, 0.0])] == [second.id, first.id]


async def test_a_chunk_removed_after_a_search_is_not_returned_by_the_next_one(
    uow_factory: UowFactory,
) -> None:
    documents = [_document(content=name) for name in ("deleted", "replaced", "emptied", "kept")]
    chunks = [(await _store(uow_factory, document, "uno"))[0] for document in documents]
    directions = ([1.0, 0.0], [0.9, 0.4], [0.8, 0.6], [0.6, 0.8])
    await _put(uow_factory, MODEL, {c.id: v for c, v in zip(chunks, directions, strict=True)})
    assert len(await _nearest(uow_factory, [1.0, 0.0])) == 4
    deleted, replaced, emptied, _ = documents
    best = []

    for removal in (
        lambda uow: uow.documents.remove(deleted.id),
        lambda uow: uow.chunks.replace(replaced.id, []),
        lambda uow: uow.chunks.remove(emptied.id),
    ):
        async with uow_factory() as uow:
            await removal(uow)
            await uow.commit()
        best += [chunk for chunk, _ in await _nearest(uow_factory, [1.0, 0.0], limit=1)]

    assert best == [c.id for c in chunks[1:]]


async def test_vectors_forgotten_after_a_search_are_not_returned_by_the_next_one(
    uow_factory: UowFactory,
) -> None:
    [chunk] = await _store(uow_factory, _document(), "uno")
    await _put(uow_factory, OTHER_MODEL, {chunk.id: [1.0, 0.0]})
    assert await _nearest(uow_factory, [1.0, 0.0], model=OTHER_MODEL) != []

    async with uow_factory() as uow:
        await uow.vectors.forget_other_models(MODEL)
        await uow.commit()

    assert await _nearest(uow_factory, [1.0, 0.0], model=OTHER_MODEL) == []


async def test_a_search_never_sees_what_a_write_has_not_committed(
    uow_factory: UowFactory,
) -> None:
    first, second = await _store(uow_factory, _document(), "uno", "dos")
    await _put(uow_factory, MODEL, {first.id: [0.0, 1.0]})

    async with uow_factory() as uow:
        await uow.vectors.put(MODEL, {second.id: [1.0, 0.0]})
        assert [chunk for chunk, _ in await _nearest(uow_factory, [1.0, 0.0])] == [first.id]
        # Leaving without commit rolls the vector back.
    assert [chunk for chunk, _ in await _nearest(uow_factory, [1.0, 0.0])] == [first.id]


async def test_chunks_missing_a_vector_of_a_model_come_in_a_stable_order_until_embedded(
    uow_factory: UowFactory,
) -> None:
    chunks = await _store(uow_factory, _document(), "uno", "dos", "tres")
    await _put(uow_factory, OTHER_MODEL, {c.id: [1.0] for c in chunks})
    await _put(uow_factory, MODEL, {chunks[1].id: [1.0]})

    async with uow_factory(read_only=True) as uow:
        missing = await uow.vectors.missing(MODEL, 10)
        assert await uow.vectors.missing(MODEL, 1) == missing[:1]
    assert missing == [chunks[0], chunks[2]]

    await _put(uow_factory, MODEL, {c.id: [1.0] for c in missing})
    async with uow_factory(read_only=True) as uow:
        assert await uow.vectors.missing(MODEL, 10) == []


async def test_forgetting_other_models_keeps_only_the_current_models_vectors(
    uow_factory: UowFactory,
) -> None:
    chunks = await _store(uow_factory, _document(), "uno", "dos")
    await _put(uow_factory, MODEL, {chunks[0].id: [1.0, 0.0]})
    await _put(uow_factory, OTHER_MODEL, {c.id: [1.0, 0.0] for c in chunks})
    await _put(uow_factory, "third-model", {chunks[1].id: [1.0, 0.0]})

    async with uow_factory() as uow:
        assert await uow.vectors.forget_other_models(MODEL) == 3
        await uow.commit()

    assert [chunk for chunk, _ in await _nearest(uow_factory, [1.0, 0.0])] == [chunks[0].id]
    assert await _nearest(uow_factory, [1.0, 0.0], model=OTHER_MODEL) == []
    async with uow_factory() as uow:
        assert await uow.vectors.forget_other_models(MODEL) == 0
