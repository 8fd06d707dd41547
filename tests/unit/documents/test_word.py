"""Word documents read with python-docx, after the zip itself is checked for bombs."""

from __future__ import annotations

import random

import pytest
from docx.document import Document
from docx.enum.style import WD_STYLE_TYPE

from adapters.documents.extractor import LocalTextExtractor
from talia_core.knowledge.errors import Unreadable
from talia_core.knowledge.model import DocumentKind
from talia_core.knowledge.text import Block, ExtractedText
from tests.unit.documents.builders import with_part, word, zip_bomb


def fill_table(document: Document, rows: list[list[str]]) -> None:
    table = document.add_table(rows=len(rows), cols=len(rows[0]))
    for cells, values in zip(table.rows, rows, strict=True):
        for cell, value in zip(cells.cells, values, strict=True):
            cell.text = value


def shop_guide(document: Document) -> None:
    document.core_properties.title = "Guía de la tienda"
    document.add_heading("Guía de la tienda", level=0)
    document.add_paragraph("Todo lo que necesitas saber antes de comprar.")
    document.add_heading("Precios", level=1)
    fill_table(
        document,
        [
            ["Producto", "Precio"],
            ["Invitación digital", "S/ 49"],
            ["Invitación impresa", "S/ 120"],
        ],
    )
    document.add_heading("Envíos", level=2)
    document.add_paragraph("Las digitales llegan el mismo día.")
    document.add_paragraph("   ")
    document.add_paragraph("Recargos por zona:")
    fill_table(document, [["Zona", "Recargo"], ["Lima", "S/ 0"], ["Provincias", "S/ 15"]])


async def read(content: bytes, **limits: int) -> ExtractedText:
    return await LocalTextExtractor(**limits).extract(content, DocumentKind.DOCX)


async def test_headings_paragraphs_and_tables_come_out_in_the_body_order() -> None:
    text = await read(word(shop_guide))

    assert text == ExtractedText(
        blocks=(
            Block.heading("Guía de la tienda", 1),
            Block.paragraph("Todo lo que necesitas saber antes de comprar."),
            Block.heading("Precios", 1),
            Block.table(
                (
                    ("Producto", "Precio"),
                    ("Invitación digital", "S/ 49"),
                    ("Invitación impresa", "S/ 120"),
                ),
                title="Precios",
            ),
            Block.heading("Envíos", 2),
            Block.paragraph("Las digitales llegan el mismo día."),
            Block.table(
                (("Zona", "Recargo"), ("Lima", "S/ 0"), ("Provincias", "S/ 15")),
                title="Recargos por zona",
            ),
        ),
        title="Guía de la tienda",
    )


async def test_heading_levels_follow_the_style_names() -> None:
    def headings(document: Document) -> None:
        for level in (1, 2, 3, 9):
            document.add_heading(f"Nivel {level}", level=level)
            document.add_paragraph("Texto.")
        for name in ("Título 2", "Titulo", "Cita destacada"):
            style = document.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
            document.add_paragraph(f"Estilo {name}", style=style)

    text = await read(word(headings))

    assert [(b.text, b.level) for b in text.blocks if b.kind == "heading"] == [
        ("Nivel 1", 1),
        ("Nivel 2", 2),
        ("Nivel 3", 3),
        ("Nivel 9", 9),
        ("Estilo Título 2", 2),
        ("Estilo Titulo", 1),
    ]


async def test_a_table_of_one_cell_is_a_paragraph() -> None:
    def boxed(document: Document) -> None:
        fill_table(document, [["Importante: los pedidos del domingo salen el lunes."]])

    text = await read(word(boxed))

    assert text.blocks == (Block.paragraph("Importante: los pedidos del domingo salen el lunes."),)


async def test_a_document_with_no_text_is_unreadable() -> None:
    with pytest.raises(Unreadable, match=r"^no text$"):
        await read(word(lambda document: document.add_paragraph("  ")))


async def test_a_zip_bomb_is_refused_before_it_is_unpacked() -> None:
    bomb = zip_bomb(unpacked_megabytes=300)
    assert len(bomb) < 400 * 1024
    assert await LocalTextExtractor().sniff(bomb) is DocumentKind.DOCX

    with pytest.raises(Unreadable, match="unpacks to more than 52428800 bytes"):
        await read(bomb)


async def test_a_part_that_expands_too_far_is_refused_within_the_size_limit() -> None:
    bomb = zip_bomb(unpacked_megabytes=5)

    with pytest.raises(Unreadable, match=r"'word/document\.xml' expands more than 100 times"):
        await read(bomb)


async def test_the_limits_come_from_the_constructor() -> None:
    document = word(shop_guide)
    filler = bytes(random.Random(7).choices(b"abcdefgh ", k=2_000_000))  # expands ~2.5 times
    padded = with_part(document, "word/filler.xml", filler)

    with pytest.raises(Unreadable, match="unpacks to more than 1000 bytes"):
        await read(document, max_unpacked_bytes=1000)
    with pytest.raises(Unreadable, match="expands more than 2 times"):
        await read(padded, max_compression_ratio=2)
    assert (await read(padded)).title == "Guía de la tienda"


@pytest.mark.parametrize(
    "content",
    [
        with_part(word(shop_guide), "word/document.xml", b"<w:document><w:body"),
        with_part(word(shop_guide), "[Content_Types].xml", b"<Types/>"),
        word(shop_guide)[:2000],
        b"PK\x03\x04 nothing more",
    ],
    ids=["broken-body", "no-content-types", "truncated", "no-zip"],
)
async def test_a_corrupt_docx_is_unreadable(content: bytes) -> None:
    with pytest.raises(Unreadable, match="DOCX"):
        await read(content)
