"""Shaping shared by every format: clean text, tables and their titles.

A table's title is its caption when it has one, else the heading right before it, else the
short heading-like paragraph right before it ("Precios 2026", "**Tarifas**", "Nuestros
precios:"), which then stops being a paragraph of its own. A "table" of one row or one
column is a layout device, not data: its cells are kept as paragraphs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from talia_core.knowledge.text import Block, BlockKind

MAX_TABLE_TITLE_LENGTH = 120
"""A paragraph longer than this before a table is text, not the table's title."""
_SENTENCE_END = (".", ",", ";", "…")


def clean(text: str) -> str:
    """White space collapsed to single spaces, trimmed."""
    return " ".join(text.split())


def _is_title_like(text: str) -> bool:
    """Short, one line, and not ending like a sentence (a colon may end it)."""
    return (
        0 < len(text) <= MAX_TABLE_TITLE_LENGTH
        and "\n" not in text
        and not text.endswith(_SENTENCE_END)
    )


def add_table(
    blocks: list[Block],
    rows: Iterable[Sequence[str]],
    *,
    caption: str = "",
    page: int | None = None,
) -> None:
    """Append a table of ``rows`` (the first is its header) to ``blocks``, titled."""
    kept = [cells for cells in (tuple(clean(cell) for cell in row) for row in rows) if any(cells)]
    width = max((len(row) for row in kept), default=0)
    if len(kept) < 2 or width < 2:
        blocks.extend(Block.paragraph(" ".join(c for c in row if c), page) for row in kept)
        return
    title = clean(caption) or _title_before(blocks)
    padded = tuple(row + ("",) * (width - len(row)) for row in kept)
    blocks.append(Block.table(padded, title=title, page=page))


def _title_before(blocks: list[Block]) -> str:
    if not blocks:
        return ""
    last = blocks[-1]
    if last.kind is BlockKind.HEADING:
        return last.text
    if last.kind is BlockKind.PARAGRAPH and _is_title_like(last.text):
        blocks.pop()
        return last.text.removesuffix(":").strip()
    return ""
