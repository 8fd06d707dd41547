"""The contract every ``TextExtractor`` passes: the in-process extractor of every format,
and any fake standing in for it.

Subclass ``TextExtractorContract`` and provide the fixture ``extractor``. What it holds an
extractor to is what the knowledge base relies on whatever the formats it reads: binary
bytes (or none) are no kind, a PDF is known by its signature and text as text, whatever a file is
named; plain text comes out as its paragraphs in order; and bytes that cannot be read as
the kind asked for, or hold no text, are ``Unreadable``, never another error.
"""

from __future__ import annotations

import pytest

from talia_core.knowledge.errors import Unreadable
from talia_core.knowledge.model import DocumentKind
from talia_core.knowledge.ports import TextExtractor
from talia_core.knowledge.text import Block

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
    b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7"
    b"5\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82"
)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
GARBAGE = b"\x00\x01\x02\x03 not a document \xfe\xff" * 40
PLAIN = (
    "Atendemos de lunes a viernes, de 9 a 18 horas.\n"
    "Los sábados abrimos hasta el mediodía.\n"
    "\n"
    "Los pedidos hechos un domingo se preparan el lunes.\n"
)


class TextExtractorContract:
    @pytest.mark.parametrize("content", [PNG, JPEG, GARBAGE, bytes(range(256)), b"\x00" * 64, b""])
    async def test_binary_bytes_or_none_are_no_kind(
        self, extractor: TextExtractor, content: bytes
    ) -> None:
        assert await extractor.sniff(content) is None

    async def test_text_is_text_whatever_the_file_is_named(self, extractor: TextExtractor) -> None:
        assert await extractor.sniff(PLAIN.encode()) is DocumentKind.TEXT

    async def test_a_pdf_is_known_by_its_signature(self, extractor: TextExtractor) -> None:
        assert await extractor.sniff(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n") is DocumentKind.PDF

    async def test_plain_text_comes_out_as_its_paragraphs_in_order(
        self, extractor: TextExtractor
    ) -> None:
        text = await extractor.extract(PLAIN.encode(), DocumentKind.TEXT)

        assert [" ".join(block.text.split()) for block in text.blocks] == [
            "Atendemos de lunes a viernes, de 9 a 18 horas. Los sábados abrimos hasta el mediodía.",
            "Los pedidos hechos un domingo se preparan el lunes.",
        ]
        assert all(block == Block.paragraph(block.text) for block in text.blocks)
        assert text.pages == 0

    @pytest.mark.parametrize("content", [b" \n\t\n  \r\n", "\ufeff\n".encode()])
    async def test_text_with_no_words_is_unreadable(
        self, extractor: TextExtractor, content: bytes
    ) -> None:
        with pytest.raises(Unreadable, match="no text"):
            await extractor.extract(content, DocumentKind.TEXT)

    @pytest.mark.parametrize("kind", list(DocumentKind))
    async def test_garbage_is_unreadable_as_any_kind(
        self, extractor: TextExtractor, kind: DocumentKind
    ) -> None:
        with pytest.raises(Unreadable):
            await extractor.extract(GARBAGE, kind)

    @pytest.mark.parametrize("kind", list(DocumentKind))
    async def test_an_image_is_unreadable_as_any_kind(
        self, extractor: TextExtractor, kind: DocumentKind
    ) -> None:
        with pytest.raises(Unreadable):
            await extractor.extract(PNG, kind)
