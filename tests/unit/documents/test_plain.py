"""Plain text in the encodings people save it in: paragraphs, headings and tables."""

from __future__ import annotations

import codecs

import pytest

from adapters.documents.extractor import LocalTextExtractor
from talia_core.knowledge.errors import Unreadable
from talia_core.knowledge.model import DocumentKind
from talia_core.knowledge.text import Block, ExtractedText

NOTES = (
    "Horario de atención\r\n"
    "Atendemos de lunes a viernes, de 9 a 18 horas, y los sábados hasta el mediodía.\r\n"
    "\r\n"
    "Plan\tPrecio\r\n"
    "Básico\tS/ 49\r\n"
    "Pro\tS/ 99\r\n"
    "\r\n"
    "Los domingos no atendemos.\r\n"
)


async def read(content: bytes) -> ExtractedText:
    return await LocalTextExtractor().extract(content, DocumentKind.TEXT)


@pytest.mark.parametrize(
    "content",
    [
        NOTES.encode(),
        codecs.BOM_UTF8 + NOTES.encode(),
        NOTES.encode("utf-16"),
        codecs.BOM_UTF16_BE + NOTES.encode("utf-16-be"),
        NOTES.encode("cp1252"),
    ],
    ids=["utf-8", "utf-8-bom", "utf-16-le", "utf-16-be", "windows-1252"],
)
async def test_text_in_any_usual_encoding_reads_the_same(content: bytes) -> None:
    text = await read(content)

    assert text == ExtractedText(
        blocks=(
            Block.heading("Horario de atención", 1),
            Block.paragraph(
                "Atendemos de lunes a viernes, de 9 a 18 horas, y los sábados hasta el mediodía."
            ),
            Block.table((("Plan", "Precio"), ("Básico", "S/ 49"), ("Pro", "S/ 99"))),
            Block.paragraph("Los domingos no atendemos."),
        )
    )


@pytest.mark.parametrize(
    "content",
    [
        "Envíos".encode("utf-16-le"),
        b"texto\x00con NUL",
        b"\x81\x8d\x8f\x90\x9d no es UTF-8 ni Windows-1252",
    ],
    ids=["utf-16-without-bom", "nul", "undefined-in-windows-1252"],
)
async def test_bytes_that_are_not_text_are_unreadable_as_text(content: bytes) -> None:
    with pytest.raises(Unreadable, match="not text in UTF-8, UTF-16 or Windows-1252"):
        await read(content)
