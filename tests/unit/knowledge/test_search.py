"""Hybrid search: what it finds, fusion by rank, collections kept apart, its limits."""

from __future__ import annotations

import pytest

from talia_core.knowledge.fusion import RRF_K, fuse
from talia_core.knowledge.model import MAX_QUERY_LENGTH, MAX_SEARCH_LIMIT, Chunk, Passage
from talia_core.shared.errors import RuleViolated
from tests.unit.knowledge.conftest import RefusingEmbedder, Shelf, make_shelf, sources


def passage(key: str, score: float = 1.0) -> Passage:
    return Passage(Chunk(key, "doc", "faq", 0, f"texto {key}"), "Guía", score)


def test_fusion_ranks_by_summed_reciprocal_ranks() -> None:
    lexical = [passage("a", 9.0), passage("b", 5.0), passage("c", 1.0)]
    vectors = [passage("b", 0.9), passage("d", 0.8), passage("e", 0.7)]

    fused = fuse([lexical, vectors], limit=10)

    assert [p.chunk.id for p in fused] == ["b", "a", "d", "c", "e"]
    assert fused[0].score == pytest.approx(1 / (RRF_K + 2) + 1 / (RRF_K + 1))
    assert fused[1].score == pytest.approx(1 / (RRF_K + 1))
    assert fused[0].chunk.text == "texto b"


def test_fusion_breaks_ties_by_the_first_ranking_then_the_next_then_by_id() -> None:
    fused = fuse(
        [[passage("b"), passage("a"), passage("x"), passage("y")], [passage("a"), passage("b")]],
        limit=3,
    )
    only_second = fuse([[], [passage("d"), passage("c")], [passage("c"), passage("d")]], 10)

    assert [p.chunk.id for p in fused] == ["b", "a", "x"]
    assert [p.chunk.id for p in only_second] == ["d", "c"]


def test_fusion_of_nothing_is_nothing() -> None:
    assert fuse([[], []], limit=5) == []


async def test_a_price_question_finds_the_table_row_with_its_source(shelf: Shelf) -> None:
    await shelf.ready()

    found = await shelf.search.search("¿Cuánto cuesta la invitación premium?", ["faq"], limit=3)

    assert found[0].chunk.section == "Precios"
    assert "Invitación premium | Precio: S/ 9" in found[0].chunk.text
    assert found[0].source == "guia > Precios"
    assert len(found) <= 3
    assert [p.score for p in found] == sorted((p.score for p in found), reverse=True)


async def test_an_assistant_never_sees_the_chunks_of_another_collection(shelf: Shelf) -> None:
    await shelf.ready(
        "# Precios\n\nLa invitación premium cuesta nueve soles. Invitación premium, premium.",
        collection="precios",
    )
    await shelf.ready("# Horario\n\nAtendemos de lunes a viernes; la invitación llega pronto.")

    found = await shelf.search.search("invitación premium", ["faq"], limit=MAX_SEARCH_LIMIT)

    assert sources(found) == ["guia > Horario"]
    assert {p.chunk.collection for p in found} == {"faq"}
    both = await shelf.search.search("invitación premium", ["faq", "precios"], limit=5)
    assert both[0].chunk.collection == "precios"


async def test_no_collections_find_nothing(shelf: Shelf) -> None:
    await shelf.ready()

    assert await shelf.search.search("invitación premium", []) == []


async def test_vectors_find_what_no_word_of_the_query_matches(shelf: Shelf) -> None:
    document = await shelf.ready()
    refunds = (await shelf.chunks(document.id))[1]
    [vector] = await shelf.hashing.embed(["devolución"])
    async with shelf.uow() as uow:
        await uow.vectors.put(shelf.hashing.model, {refunds.id: vector})
        await uow.commit()

    found = await shelf.search.search("devolución", ["faq"])

    assert [p.chunk.id for p in found] == [refunds.id]


async def test_with_the_embedder_down_a_search_answers_by_words() -> None:
    shelf = make_shelf()
    await shelf.ready()
    shelf.hashing.fail_next()

    found = await shelf.search.search("invitación premium", ["faq"])

    assert found[0].chunk.section == "Precios"


async def test_with_the_embedder_refusing_the_query_a_search_answers_by_words() -> None:
    shelf = make_shelf()
    await shelf.ready()
    assert shelf.embedder is not None
    shelf.embedder.inner = RefusingEmbedder()

    found = await shelf.search.search("invitación premium", ["faq"])

    assert found[0].chunk.section == "Precios"


async def test_without_an_embedder_a_search_answers_by_words() -> None:
    shelf = make_shelf(without_embedder=True)
    await shelf.ready()

    found = await shelf.search.search("reembolsos", ["faq"])

    assert sources(found) == ["guia > Pagos > Reembolsos"]


@pytest.mark.parametrize(
    ("query", "field"),
    [("   ", "query"), ("x" * (MAX_QUERY_LENGTH + 1), "query"), ("hola\x00", "query")],
)
async def test_a_blank_or_too_long_query_is_refused(shelf: Shelf, query: str, field: str) -> None:
    with pytest.raises(RuleViolated) as refused:
        await shelf.search.search(query, ["faq"])

    assert set(refused.value.fields) == {field}


@pytest.mark.parametrize("limit", [0, -1, MAX_SEARCH_LIMIT + 1])
async def test_a_limit_out_of_range_is_refused(shelf: Shelf, limit: int) -> None:
    with pytest.raises(RuleViolated) as refused:
        await shelf.search.search("hola", ["faq"], limit=limit)

    assert refused.value.fields == {"limit": "out of range"}


async def test_collections_must_be_names_and_not_too_many(shelf: Shelf) -> None:
    with pytest.raises(RuleViolated) as bad:
        await shelf.search.search("hola", ["Preguntas Frecuentes"])
    with pytest.raises(RuleViolated) as many:
        await shelf.search.search("hola", [f"c{n}" for n in range(101)])

    assert bad.value.fields == {"collections": "not a slug"}
    assert many.value.fields == {"collections": "too many"}
