"""Plain text: paragraphs split by blank lines, read like a laid-out page (``layout``), so a
price list in aligned or tab-separated columns is a table and a short line over a paragraph
a heading. The file has no pages and no title."""

from __future__ import annotations

from adapters.documents.layout import blocks_from_lines
from talia_core.knowledge.text import ExtractedText


def read_text(text: str) -> ExtractedText:
    return ExtractedText(blocks=tuple(blocks_from_lines(text.splitlines())))
