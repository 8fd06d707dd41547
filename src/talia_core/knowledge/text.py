"""What an extractor reads out of a document: its blocks in reading order.

Extractors (PDF, DOCX, Markdown, HTML, plain text) all answer with this one shape, so
chunking knows nothing of file formats. A table keeps its rows as cells, header first, so
each of its chunks can repeat the title and header beside the rows it holds.
"""

from __future__ import annotations

import enum

import attrs


class BlockKind(enum.StrEnum):
    HEADING = "heading"
    PARAGRAPH = "paragraph"
    TABLE = "table"


@attrs.frozen
class Block:
    """One heading (``level`` 1 is the largest), paragraph or table, on ``page`` (from 1)
    when the format has pages. A table's ``rows`` start with its header row; its ``text``
    is its title or caption, empty when it has none."""

    kind: BlockKind
    text: str
    page: int | None = None
    level: int = 0
    rows: tuple[tuple[str, ...], ...] = ()

    @classmethod
    def heading(cls, text: str, level: int = 1, page: int | None = None) -> Block:
        return cls(BlockKind.HEADING, text, page=page, level=level)

    @classmethod
    def paragraph(cls, text: str, page: int | None = None) -> Block:
        return cls(BlockKind.PARAGRAPH, text, page=page)

    @classmethod
    def table(
        cls, rows: tuple[tuple[str, ...], ...], title: str = "", page: int | None = None
    ) -> Block:
        return cls(BlockKind.TABLE, title, page=page, rows=rows)


@attrs.frozen
class ExtractedText:
    """A document's blocks in reading order; ``pages`` is 0 for formats without pages."""

    blocks: tuple[Block, ...]
    pages: int = 0
    title: str | None = None

    @property
    def is_empty(self) -> bool:
        return not any(block.text.strip() or block.rows for block in self.blocks)
