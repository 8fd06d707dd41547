"""How documents are cut into chunks: sections, tables, long paragraphs; and what always holds."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from talia_core.knowledge.chunking import ChunkingRules, chunk
from talia_core.knowledge.model import MAX_SECTION_LENGTH, Chunk
from talia_core.knowledge.text import Block, BlockKind, ExtractedText


def cut(*blocks: Block, rules: ChunkingRules | None = None) -> list[Chunk]:
    return chunk(
        ExtractedText(blocks), rules or ChunkingRules(), document_id="doc-1", collection="faq"
    )


def test_a_chunk_starts_with_its_heading_path_and_keeps_it_as_its_section() -> None:
    chunks = cut(
        Block.heading("Pagos"),
        Block.heading("Reembolsos", 2),
        Block.paragraph("Devolvemos el dinero en siete días.", page=3),
    )

    assert [c.text for c in chunks] == ["Pagos > Reembolsos\nDevolvemos el dinero en siete días."]
    assert chunks[0].section == "Pagos > Reembolsos"
    assert chunks[0].page == 3
    assert (chunks[0].document_id, chunks[0].collection) == ("doc-1", "faq")


def test_paragraphs_of_one_section_share_a_chunk_and_a_new_heading_starts_another() -> None:
    chunks = cut(
        Block.heading("Pagos"),
        Block.paragraph("Tarjetas."),
        Block.paragraph("Yape."),
        Block.heading("Envíos"),
        Block.paragraph("A todo el país."),
    )

    assert [c.text for c in chunks] == ["Pagos\nTarjetas.\nYape.", "Envíos\nA todo el país."]
    assert [c.position for c in chunks] == [0, 1]


def test_a_deeper_heading_ends_where_a_heading_of_its_level_or_higher_comes() -> None:
    chunks = cut(
        Block.heading("Guía"),
        Block.heading("Pagos", 2),
        Block.paragraph("Tarjetas."),
        Block.heading("Envíos", 2),
        Block.paragraph("A todo el país."),
    )

    assert [c.section for c in chunks] == ["Guía > Pagos", "Guía > Envíos"]


def test_a_heading_with_nothing_under_it_is_a_chunk_of_its_own() -> None:
    chunks = cut(
        Block.heading("Horario"), Block.heading("Contacto"), Block.paragraph("Escríbenos.")
    )

    assert [c.text for c in chunks] == ["Horario", "Contacto\nEscríbenos."]


def test_a_table_repeats_its_title_and_writes_each_row_as_header_value_pairs() -> None:
    rows = (
        ("Producto", "Precio", "Mínimo"),
        ("Invitación clásica", "S/ 5", "50"),
        ("Invitación premium", "S/ 9", ""),
        ("Sobre kraft", "S/ 1", "10"),
    )
    rules = ChunkingRules(table_rows_per_chunk=2)

    chunks = cut(Block.heading("Precios"), Block.table(rows, "Lista de precios"), rules=rules)

    assert [c.text for c in chunks] == [
        "Precios\nLista de precios\n"
        "Producto: Invitación clásica | Precio: S/ 5 | Mínimo: 50\n"
        "Producto: Invitación premium | Precio: S/ 9",
        "Precios\nLista de precios\nProducto: Sobre kraft | Precio: S/ 1 | Mínimo: 10",
    ]
    assert {c.section for c in chunks} == {"Precios"}


def test_a_table_with_only_its_header_keeps_the_header_words() -> None:
    chunks = cut(Block.table((("Producto", "Precio"),), "Precios"))

    assert [c.text for c in chunks] == ["Precios\nProducto | Precio"]


def test_a_long_paragraph_is_split_at_sentence_ends_each_piece_repeating_the_last() -> None:
    sentences = [f"La frase {n} cuenta algo de los envíos." for n in range(12)]
    rules = ChunkingRules(max_chars=200, overlap_chars=45)

    chunks = cut(Block.paragraph(" ".join(sentences)), rules=rules)

    assert len(chunks) > 2
    assert all(len(c.text) <= 200 for c in chunks)
    for before, after in itertools.pairwise(chunks):
        assert before.text.endswith(".")
        shared = after.text.split(". ")[0] + "."
        assert before.text.endswith(shared)
        assert shared in sentences


def test_rules_refuse_an_overlap_of_a_quarter_of_a_chunk_or_more() -> None:
    with pytest.raises(ValueError, match="overlap"):
        ChunkingRules(max_chars=400, overlap_chars=100)


def test_a_section_too_long_to_cite_is_shortened() -> None:
    heading = "palabra " * 100
    chunks = cut(Block.heading(heading), Block.paragraph("Texto."))

    assert all(len(c.section) <= MAX_SECTION_LENGTH for c in chunks)
    assert any("Texto." in c.text for c in chunks)


# What always holds

_LETTERS = "abcdefghijklmnñopqrstuvwxyzáéíóúü0123456789"
short_words = st.text(_LETTERS, min_size=1, max_size=12)
words = st.one_of(
    short_words, short_words, short_words, st.text(_LETTERS, min_size=1, max_size=300)
)
sentences = st.builds(
    lambda ws, end: " ".join(ws) + end,
    st.lists(words, min_size=1, max_size=15),
    st.sampled_from(".?! "),
)
paragraphs = st.builds(
    lambda ss, page: Block.paragraph(" ".join(ss), page),
    st.lists(sentences, min_size=1, max_size=10),
    st.one_of(st.none(), st.integers(1, 9)),
)
headings = st.builds(
    lambda ws, level: Block.heading(" ".join(ws), level),
    st.lists(words, min_size=0, max_size=6),
    st.integers(1, 4),
)
cells = st.builds(" ".join, st.lists(short_words, max_size=3))


@st.composite
def tables(draw: st.DrawFn) -> Block:
    columns = draw(st.integers(1, 4))
    row = st.tuples(*[cells] * columns)
    header = draw(
        st.tuples(*[st.builds(" ".join, st.lists(short_words, min_size=1, max_size=2))] * columns)
    )
    title = draw(st.builds(" ".join, st.lists(short_words, max_size=3)))
    return Block.table((header, *draw(st.lists(row, max_size=12))), title)


documents = st.lists(st.one_of(headings, paragraphs, tables()), max_size=15)


@st.composite
def chunking_rules(draw: st.DrawFn, smallest: int = 40) -> ChunkingRules:
    max_chars = draw(st.integers(smallest, 700))
    return ChunkingRules(
        max_chars=max_chars,
        overlap_chars=draw(st.integers(0, max_chars // 4 - 1)),
        table_rows_per_chunk=draw(st.integers(1, 5)),
    )


def source_words(blocks: list[Block]) -> list[str]:
    """Every word, but those of a column with no value in any row (it says nothing)."""
    found = []
    for block in blocks:
        found += block.text.split()
        if block.rows:
            header, *rows = block.rows
            filled = [not rows or any(row[n].strip() for row in rows) for n in range(len(header))]
            found += [
                w for name, kept in zip(header, filled, strict=True) if kept for w in name.split()
            ]
            found += [word for row in rows for cell in row for word in cell.split()]
    return found


@settings(max_examples=150, deadline=None)
@given(documents, chunking_rules())
def test_every_word_of_the_document_is_in_some_chunk(
    blocks: list[Block], rules: ChunkingRules
) -> None:
    texts = "\x00".join(c.text for c in cut(*blocks, rules=rules))

    for word in source_words(blocks):
        assert word in texts, word


@settings(max_examples=150, deadline=None)
@given(documents, chunking_rules())
def test_no_chunk_is_longer_than_allowed_unless_one_word_alone_is(
    blocks: list[Block], rules: ChunkingRules
) -> None:
    room = rules.max_chars - rules.head_chars - 1
    for c in cut(*blocks, rules=rules):
        assert len(c.text) <= rules.max_chars or any(len(w) > room for w in c.text.split())
        assert len(c.section) <= MAX_SECTION_LENGTH
        assert c.text.strip()


@settings(max_examples=100, deadline=None)
@given(documents, chunking_rules())
def test_positions_count_the_chunks_in_order(blocks: list[Block], rules: ChunkingRules) -> None:
    chunks = cut(*blocks, rules=rules)

    assert [c.position for c in chunks] == list(range(len(chunks)))
    assert len({c.id for c in chunks}) == len(chunks)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.one_of(headings.filter(lambda b: len(b.text) < 40), tables()), max_size=8),
    chunking_rules(smallest=400),
)
def test_every_table_row_is_in_a_chunk_with_the_title_and_each_value_beside_its_header(
    blocks: list[Block], rules: ChunkingRules
) -> None:
    chunks = cut(*blocks, rules=rules)

    for table in (b for b in blocks if b.kind is BlockKind.TABLE):
        header, *rows = table.rows
        for row in rows:
            pairs = [f"{name}: {value}" for name, value in zip(header, row, strict=True) if value]
            if pairs:
                assert any(
                    table.text in c.text and all(pair in c.text for pair in pairs) for c in chunks
                ), (table, row)


def ends(pieces: list[list[str]], words: list[str], most: int, least: int = 0) -> set[int]:
    """Where in ``words`` the last piece can end, when each piece goes on from where the one
    before ended after repeating between ``least`` words and ``most`` characters of it."""
    if words[: len(pieces[0])] != pieces[0]:
        return set()
    found = {len(pieces[0])}
    for piece in pieces[1:]:
        found = {
            end - n + len(piece)
            for end in found
            for n in range(least, min(end, len(piece)) + 1)
            if len(" ".join(piece[:n])) <= most and words[end - n : end - n + len(piece)] == piece
        }
    return found


@settings(max_examples=150, deadline=None)
@given(paragraphs, chunking_rules())
def test_the_pieces_of_a_split_paragraph_overlap_by_at_most_the_overlap_and_make_it_whole(
    paragraph: Block, rules: ChunkingRules
) -> None:
    words = paragraph.text.split()
    pieces = [c.text.split() for c in cut(paragraph, rules=rules)]

    assert len(words) in ends(pieces, words, rules.overlap_chars)


short_paragraphs = st.builds(
    lambda ss: Block.paragraph(" ".join(ss)),
    st.lists(
        st.builds(lambda ws: " ".join(ws) + ".", st.lists(short_words, min_size=1, max_size=15)),
        min_size=1,
        max_size=10,
    ),
)


@settings(max_examples=150, deadline=None)
@given(short_paragraphs, st.integers(80, 700), st.integers(13, 1000))
def test_pieces_of_short_words_always_repeat_some_of_the_piece_before(
    paragraph: Block, max_chars: int, overlap_chars: int
) -> None:
    rules = ChunkingRules(max_chars=max_chars, overlap_chars=min(overlap_chars, max_chars // 4 - 1))
    words = paragraph.text.split()
    pieces = [c.text.split() for c in cut(paragraph, rules=rules)]

    assert len(words) in ends(pieces, words, rules.overlap_chars, least=1)
