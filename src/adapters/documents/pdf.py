"""PDF with pypdf: each page's text in layout mode, read into blocks by ``layout``.

A PDF encrypted with a password, over the page limit, or that pypdf cannot parse is
``Unreadable``; so is one with no text at all (scanned pages are images: they would need
OCR, which is not done here). A PDF encrypted with an empty password (restrictions only)
reads as any other. Running heads and feet (the same line first or last on most pages,
page numbers aside) and bare page numbers are left out. pypdf bounds what a compressed
stream may expand to and raises instead of filling memory.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Sequence

from pypdf import PasswordType, PdfReader

from adapters.documents import unreadable
from adapters.documents.blocks import clean
from adapters.documents.layout import blocks_from_lines
from talia_core.knowledge.errors import Unreadable
from talia_core.knowledge.text import Block, ExtractedText

MIN_PAGES_FOR_RUNNING_LINES = 3

_ROMAN = r"(?=[ivxlc])c{0,3}(?:xc|xl|l?x{0,3})(?:ix|iv|v?i{0,3})"
_PAGE_NUMBER = re.compile(
    r"[-\u2013\u2014]?\s*(?:(?:p[áa]g(?:ina)?\.?|page)\s*)?"
    rf"(?:\d+(?:\s*(?:de|of|/)\s*\d+)?|{_ROMAN})\s*[-\u2013\u2014]?",
    re.IGNORECASE,
)
_DIGITS = re.compile(r"\d+")


def read_pdf(content: bytes, max_pages: int) -> ExtractedText:
    reader = _open(content)
    count = _page_count(reader)
    if count > max_pages:
        raise Unreadable(f"the PDF has {count} pages; at most {max_pages} are read")
    pages = [_page_lines(reader, number) for number in range(count)]
    if not any(any(line.strip() for line in lines) for lines in pages):
        raise Unreadable("no text: scanned pages need OCR")
    running = _running_lines(pages)
    blocks: list[Block] = []
    for number, lines in enumerate(pages, start=1):
        blocks.extend(blocks_from_lines(_trimmed(lines, running), page=number))
    return ExtractedText(blocks=tuple(blocks), pages=count, title=_title(reader))


def _open(content: bytes) -> PdfReader:
    try:
        reader = PdfReader(io.BytesIO(content))
        locked = reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED
    except Exception as error:  # a corrupt file makes pypdf raise whatever it meets
        raise unreadable("the PDF cannot be read", error) from error
    if locked:
        raise Unreadable("the PDF is encrypted with a password")
    return reader


def _page_count(reader: PdfReader) -> int:
    try:
        count = len(reader.pages)
    except Exception as error:  # a corrupt page tree
        raise unreadable("the PDF cannot be read", error) from error
    if count == 0:
        raise Unreadable("the PDF has no pages")
    return count


def _page_lines(reader: PdfReader, index: int) -> list[str]:
    try:
        return reader.pages[index].extract_text(extraction_mode="layout").splitlines()
    except Exception as error:  # a corrupt page or content stream
        raise unreadable(f"page {index + 1} of the PDF cannot be read", error) from error


def _trimmed(lines: Sequence[str], running: frozenset[str] = frozenset()) -> list[str]:
    """The page without what stands at its top or bottom only because it runs through the
    pages: page numbers, and the ``running`` heads and feet."""
    kept = list(lines)
    for edge in (0, -1):
        for _ in range(2):  # a page number may stand beyond a running foot
            texts = [index for index, line in enumerate(kept) if line.strip()]
            if not texts:
                break
            line = kept[texts[edge]]
            if not (_PAGE_NUMBER.fullmatch(line.strip()) or _key(line) in running):
                break
            del kept[texts[edge]]
    return kept


def _running_lines(pages: Sequence[Sequence[str]]) -> frozenset[str]:
    """Lines standing first or last (page numbers aside) on at least half the pages, when
    there are three or more, their digits aside: running heads and feet."""
    if len(pages) < MIN_PAGES_FOR_RUNNING_LINES:
        return frozenset()
    edges: Counter[str] = Counter()
    for lines in pages:
        texts = [line for line in _trimmed(lines) if line.strip()]
        edges.update({_key(texts[0]), _key(texts[-1])} if texts else set())
    return frozenset(key for key, seen in edges.items() if seen * 2 >= len(pages))


def _key(line: str) -> str:
    return _DIGITS.sub("#", clean(line))


def _title(reader: PdfReader) -> str | None:
    try:
        title = reader.metadata.title if reader.metadata else None
    except Exception:  # a broken information dictionary is no reason to refuse the text
        return None
    return (clean(title) or None) if isinstance(title, str) else None
