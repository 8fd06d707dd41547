"""PDFs read with pypdf: text per page, headings, tables, limits and what cannot be read."""

from __future__ import annotations

import pytest

from adapters.documents.extractor import LocalTextExtractor
from talia_core.knowledge.errors import Unreadable
from talia_core.knowledge.model import DocumentKind
from talia_core.knowledge.text import Block, BlockKind, ExtractedText
from tests.unit.documents.builders import encrypted, pdf

GUIDE = pdf(
    [
        "Envíos y entregas",
        "Las invitaciones digitales llegan por correo el mismo día del pago.",
        "Las impresas salen del taller en Lima (Perú) al día hábil siguiente.",
    ],
    [
        "Lista de precios",
        ("Producto", "Precio", "Entrega"),
        ("Invitación digital", "S/ 49", "24 horas"),
        ("Invitación impresa", "S/ 120", "5 días"),
        ("Video invitación", "S/ 89", "48 horas"),
        "Los precios incluyen IGV.",
    ],
    title="Guía de la tienda",
)


async def read(content: bytes, **limits: int) -> ExtractedText:
    return await LocalTextExtractor(**limits).extract(content, DocumentKind.PDF)


async def test_each_page_text_comes_out_with_its_page_number_and_the_document_title() -> None:
    text = await read(GUIDE)

    assert text.pages == 2
    assert text.title == "Guía de la tienda"
    assert text.blocks[:2] == (
        Block.heading("Envíos y entregas", 1, page=1),
        Block.paragraph(
            "Las invitaciones digitales llegan por correo el mismo día del pago. "
            "Las impresas salen del taller en Lima (Perú) al día hábil siguiente.",
            page=1,
        ),
    )
    assert {block.page for block in text.blocks[2:]} == {2}


async def test_columns_of_a_price_list_come_out_as_a_table_titled_by_the_line_above() -> None:
    tables = [block for block in (await read(GUIDE)).blocks if block.kind is BlockKind.TABLE]

    assert tables == [
        Block.table(
            (
                ("Producto", "Precio", "Entrega"),
                ("Invitación digital", "S/ 49", "24 horas"),
                ("Invitación impresa", "S/ 120", "5 días"),
                ("Video invitación", "S/ 89", "48 horas"),
            ),
            title="Lista de precios",
            page=2,
        )
    ]


async def test_running_heads_and_page_numbers_are_left_out() -> None:
    topics = ["los pagos", "los envíos", "los cambios", "las garantías"]
    pages = [
        [
            "Tienda de invitaciones - Guía",
            f"Capítulo {n}",
            f"Esta página explica {topic} con detalle.",
            f"Página {n} de 4",
        ]
        for n, topic in enumerate(topics, start=1)
    ]

    text = await read(pdf(*pages))

    assert [block.text for block in text.blocks if block.page == 3] == [
        "Capítulo 3",
        "Esta página explica los cambios con detalle.",
    ]


async def test_a_running_line_in_the_middle_of_a_page_is_text() -> None:
    head = "Tienda de invitaciones - Guía"
    topics = ["pagos", "envíos", "cambios"]
    pages = [[head, f"Sobre {topic}.", str(n)] for n, topic in enumerate(topics, start=1)]
    pages[1][2:2] = ["Como dice el título:", head, "y nada más."]

    text = await read(pdf(*pages))

    assert [block.text for block in text.blocks] == [
        "Sobre pagos.",
        "Sobre envíos.",
        "Como dice el título:",
        "Tienda de invitaciones - Guía y nada más.",
        "Sobre cambios.",
    ]


async def test_a_pdf_over_the_page_limit_is_unreadable() -> None:
    three_pages = pdf(["Uno."], ["Dos."], ["Tres."])

    with pytest.raises(Unreadable, match=r"^the PDF has 3 pages; at most 2 are read$"):
        await read(three_pages, max_pages=2)
    assert (await read(three_pages, max_pages=3)).pages == 3


@pytest.mark.parametrize("algorithm", ["RC4-128", "AES-128", "AES-256"])
async def test_a_pdf_encrypted_with_a_password_is_unreadable(algorithm: str) -> None:
    locked = encrypted(GUIDE, user_password="secreto", algorithm=algorithm)

    with pytest.raises(Unreadable, match="encrypted with a password"):
        await read(locked)


@pytest.mark.parametrize("algorithm", ["RC4-128", "AES-256"])
async def test_a_pdf_encrypted_only_against_changes_reads_as_any_other(algorithm: str) -> None:
    restricted = encrypted(GUIDE, user_password="", algorithm=algorithm)

    assert (await read(restricted)).blocks == (await read(GUIDE)).blocks


async def test_a_pdf_with_no_text_needs_ocr_and_is_unreadable() -> None:
    scanned = pdf([], [])

    with pytest.raises(Unreadable, match=r"^no text: scanned pages need OCR$"):
        await read(scanned)


@pytest.mark.parametrize(
    "content",
    [
        GUIDE[: len(GUIDE) // 3],
        b"%PDF-1.7\n" + b"\x00garbage\xff" * 50,
        b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\ntrailer\n<< >>\n%%EOF",
        GUIDE.replace(b"/Type /Pages", b"/Type /Oops!"),
    ],
    ids=["truncated", "garbage", "no-page-tree", "broken-page-tree"],
)
async def test_a_corrupt_pdf_is_unreadable(content: bytes) -> None:
    with pytest.raises(Unreadable):
        await read(content)


async def test_another_format_read_as_a_pdf_is_unreadable() -> None:
    with pytest.raises(Unreadable, match="the PDF cannot be read"):
        await read(b"PK\x03\x04 a zip, not a PDF")
