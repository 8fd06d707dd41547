"""Word documents (DOCX) with python-docx, after a check of the zip itself.

Before python-docx unpacks anything, the archive's directory is read with ``zipfile``: too
many parts, parts adding up to more than the limit once unpacked, or a part of a megabyte or
more expanding more than the limit ratio (a zip bomb) make it ``Unreadable``. The sizes a
zip declares bound what ``zipfile`` will unpack, so they can be trusted. python-docx parses
the XML without resolving entities.

Paragraphs in a heading style ("Heading 1"…"Heading 9", "Title"; Word keeps built-in style
names in English whatever its language, the Spanish ones are read too) become headings of
that level; tables become table blocks, their first row the header; both in the body's
order. Text in headers, footers, text boxes and tables nested in cells is not read.
"""

from __future__ import annotations

import io
import re
import zipfile

import docx
from docx.table import Table
from docx.text.paragraph import Paragraph

from adapters.documents import unreadable
from adapters.documents.blocks import add_table, clean
from talia_core.knowledge.errors import Unreadable
from talia_core.knowledge.text import Block, ExtractedText

MAX_PARTS = 10_000
RATIO_FLOOR = 1024 * 1024
"""Parts smaller than this once unpacked are not held to the compression ratio."""

_HEADING_STYLE = re.compile(r"(?:heading|t[ií]tulo|encabezado)\s*([1-9])", re.IGNORECASE)
_TITLE_STYLE = re.compile(r"title|t[ií]tulo", re.IGNORECASE)


def _check_archive(content: bytes, *, max_unpacked_bytes: int, max_ratio: int) -> None:
    """``Unreadable`` unless the bytes are a zip that unpacks within the limits."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            parts = archive.infolist()
    except Exception as error:  # a broken zip says so in many ways
        raise unreadable("the DOCX is not a readable zip", error) from error
    if len(parts) > MAX_PARTS:
        raise Unreadable(f"the DOCX has {len(parts)} parts; at most {MAX_PARTS} are read")
    if sum(part.file_size for part in parts) > max_unpacked_bytes:
        raise Unreadable(f"the DOCX unpacks to more than {max_unpacked_bytes} bytes")
    for part in parts:
        if part.file_size >= RATIO_FLOOR and part.file_size > max_ratio * part.compress_size:
            raise Unreadable(f"the DOCX part {part.filename!r} expands more than {max_ratio} times")


def read_docx(content: bytes, *, max_unpacked_bytes: int, max_ratio: int) -> ExtractedText:
    _check_archive(content, max_unpacked_bytes=max_unpacked_bytes, max_ratio=max_ratio)
    try:
        document = docx.Document(io.BytesIO(content))
        blocks: list[Block] = []
        for item in document.iter_inner_content():
            if isinstance(item, Paragraph):
                _add_paragraph(blocks, item)
            else:
                _add_table(blocks, item)
        title = clean(document.core_properties.title or "") or None
    except Exception as error:  # a corrupt part makes python-docx raise whatever it meets
        raise unreadable("the DOCX cannot be read", error) from error
    return ExtractedText(blocks=tuple(blocks), title=title)


def _add_paragraph(blocks: list[Block], paragraph: Paragraph) -> None:
    text = clean(paragraph.text)
    if not text:
        return
    level = _heading_level(paragraph.style.name if paragraph.style is not None else None)
    blocks.append(Block.heading(text, level) if level else Block.paragraph(text))


def _heading_level(style: str | None) -> int:
    if not style:
        return 0
    heading = _HEADING_STYLE.fullmatch(style.strip())
    if heading:
        return int(heading.group(1))
    return 1 if _TITLE_STYLE.fullmatch(style.strip()) else 0


def _add_table(blocks: list[Block], table: Table) -> None:
    add_table(blocks, [[cell.text for cell in row.cells] for row in table.rows])
