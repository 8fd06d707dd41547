"""The kind of a document comes from its bytes, never from its name."""

from __future__ import annotations

import codecs
import io
import zipfile

import pytest

from adapters.documents.sniffing import sniff
from talia_core.knowledge.model import DocumentKind
from tests.contracts.knowledge.text_extractor import JPEG, PNG
from tests.unit.documents.builders import CONTENT_TYPES, pdf, with_part, word


def a_zip(parts: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return out.getvalue()


def test_pdf_bytes_uploaded_as_a_docx_are_a_pdf() -> None:
    assert sniff(pdf(["Lista de precios"])) is DocumentKind.PDF


def test_a_word_document_is_a_docx() -> None:
    assert sniff(word(lambda d: d.add_paragraph("Hola"))) is DocumentKind.DOCX


def test_a_png_uploaded_as_a_pdf_is_no_kind() -> None:
    assert sniff(PNG) is None


@pytest.mark.parametrize(
    "parts",
    [
        {"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<x/>"},
        {"[Content_Types].xml": CONTENT_TYPES, "xl/workbook.xml": b"<x/>"},
        {"word/document.xml": b"<x/>"},
        {
            "[Content_Types].xml": CONTENT_TYPES.replace(
                b"officedocument.wordprocessingml.document.main",
                b"ms-word.document.macroEnabled.main",
            ),
            "word/document.xml": b"<x/>",
        },
    ],
    ids=["opendocument", "spreadsheet", "no-content-types", "macro-enabled"],
)
def test_a_zip_that_is_no_word_document_is_no_kind(parts: dict[str, bytes]) -> None:
    assert sniff(a_zip(parts)) is None


def test_a_broken_zip_is_no_kind() -> None:
    document = word(lambda d: d.add_paragraph("Hola"))

    assert sniff(document[: len(document) // 2]) is None


def test_a_word_document_with_a_broken_part_is_still_a_docx() -> None:
    document = with_part(word(lambda d: d.add_paragraph("Hola")), "word/document.xml", b"<w:")

    assert sniff(document) is DocumentKind.DOCX


@pytest.mark.parametrize(
    "text",
    [
        "<!DOCTYPE html><html><body><p>Hola</p></body></html>",
        "\ufeff\n  <!doctype HTML>\n<title>Precios</title>",
        '<?xml version="1.0"?>\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN">',
        "<!-- exportado -->\n<html lang='es'><p>Hola</p></html>",
        "<div class='faq'><h2>Envíos</h2><p>Llegan en 24 horas.</p></div>",
        "<table><tr><td>Invitación</td><td>S/ 49</td></tr></table>",
    ],
)
def test_html_is_known_by_what_it_opens_with(text: str) -> None:
    assert sniff(text.encode()) is DocumentKind.HTML


@pytest.mark.parametrize(
    "text",
    [
        "# Preguntas frecuentes\n\nTexto.",
        "Intro\n\n### Envíos\nLlegan pronto.",
        "Precios\n\n| Plan | Precio |\n|---|---:|\n| Básico | S/ 49 |",
        "Pasos:\n\n- Elige una plantilla\n- Personalízala\n",
        "Pasos:\n\n1. Elige\n2. Paga\n",
        "Ejemplo:\n\n```\ncódigo\n```\n",
        "Guía\n====\n\nTexto.",
    ],
    ids=["atx", "atx-deeper", "pipe-table", "bullets", "numbers", "fence", "setext"],
)
def test_text_with_markdown_structure_is_markdown(text: str) -> None:
    assert sniff(text.encode()) is DocumentKind.MARKDOWN


@pytest.mark.parametrize(
    "content",
    [
        b"Atendemos de lunes a viernes.\n\nEl precio es 3 < 5 y #1 en ventas.",
        "- una sola línea con guion\n\nY texto.".encode(),
        codecs.BOM_UTF8 + "Envíos a todo el país.".encode(),
        "Envíos a todo el país.".encode("utf-16"),
        codecs.BOM_UTF16_BE + "Envíos a todo el país.".encode("utf-16-be"),
        "Envíos a todo el país, señor.".encode("cp1252"),
    ],
    ids=["utf-8", "one-dash", "utf-8-bom", "utf-16-le", "utf-16-be", "windows-1252"],
)
def test_other_text_is_plain_text(content: bytes) -> None:
    assert sniff(content) is DocumentKind.TEXT


@pytest.mark.parametrize(
    "content",
    [
        b"",
        JPEG,
        b"GIF89a\x01\x00\x01\x00\x80\x00\x00",
        b"texto con un NUL\x00 en medio",
        "Envíos".encode("utf-16-le"),
        b"\x7fELF\x02\x01\x01\x00",
        b"\x1f\x8b\x08\x00gzip",
        bytes(range(1, 32)) * 4,
    ],
    ids=["empty", "jpeg", "gif", "nul", "utf-16-without-bom", "elf", "gzip", "controls"],
)
def test_binary_is_no_kind(content: bytes) -> None:
    assert sniff(content) is None
