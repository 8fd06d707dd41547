"""Paragraphs, headings and tables in lines of text as laid out on a page: a PDF page read in
pypdf's layout mode (which keeps columns apart with spaces and paragraphs apart with blank
lines) or a plain text file.

Best effort, kept simple on purpose:

- A **table** is a run of two or more lines (blank lines may sit between them) that split
  into the same number (2 to 12) of cells on tabs or on gaps of two or more spaces, each
  cell in line with the one above it (starting or ending within two characters, or 15 % of
  its distance from the margin: pypdf places text by an average character width, so a
  column drifts with the widths of the text before it; tab-separated rows need only the
  same count). A row is no list item ("•  text"), and when two or more columns hold long
  text it is prose set in columns, not a table. The first row is the header; a table whose
  columns do not line up (a PDF whose text is not in visual order, cells that wrap onto two
  lines) comes out as paragraphs.
- A **heading** is a short line (80 characters, 12 words at most, and well short of the
  widest line) of one cell, or of a section number and one cell ("2  Envíos"), starting
  with a capital letter, a digit, "¿" or "¡", not ending like a sentence, its brackets
  balanced, first in its paragraph, not one of several numbered items, and followed by
  text within the next two lines. Numbered ones ("2.1 Envíos") take their level from the
  numbering; the others are level 1.
- **Paragraphs** end at blank lines, at list items, and after a line that ends a sentence
  well short of the widest line; a word hyphenated across lines is joined again.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import attrs

from adapters.documents.blocks import add_table, clean
from talia_core.knowledge.text import Block

MAX_HEADING_LENGTH = 80
MAX_HEADING_WORDS = 12
ALIGNMENT = 2
"""How many characters a cell may sit off the cell above it and still be in its column..."""
ALIGNMENT_SHARE = 0.15
"""... or this share of its distance from the margin, when that is more."""
MAX_COLUMNS = 12
PROSE_CELL_LENGTH = 30
"""Columns whose cells average more characters than this hold prose, not data."""
SHORT_LINE = 0.75
"""A line ending a sentence and shorter than this share of the widest line ends a paragraph."""

_CELL = re.compile(r"[^\t ]+(?: [^\t ]+)*")
_LETTER = re.compile(r"[^\W\d_]")
_NUMBERED = re.compile(r"(\d{1,2}(?:\.\d{1,2}){0,5})\.?\s+\S")
_MARKER = re.compile(r"[-*+•·▪◦\u2013\u2014]|\d{1,3}[.)]|[a-z][.)]")
_LIST_ITEM = re.compile(rf"(?:{_MARKER.pattern})\s+\S")
_SECTION = re.compile(r"\d{1,2}(?:\.\d{1,2}){0,5}\.?")
_BULLET = re.compile(r"[-*+•·▪◦\u2013\u2014]\s")
_NUMBERED_ITEM = re.compile(r"\d{1,3}[.)]\s")
_SENTENCE_END = (".", "!", "?", ":", ";", "…")
_NOT_HEADING_END = (".", ",", ";", ":", "…", "-")


@attrs.frozen
class _Row:
    cells: tuple[str, ...]
    starts: tuple[int, ...]
    ends: tuple[int, ...]
    tabbed: bool

    def follows(self, above: _Row) -> bool:
        if len(self.cells) != len(above.cells):
            return False
        if self.tabbed or above.tabbed:
            return True
        return all(
            _near(start, start_above) or _near(end, end_above)
            for start, start_above, end, end_above in zip(
                self.starts[1:], above.starts[1:], self.ends[1:], above.ends[1:], strict=True
            )
        )


def blocks_from_lines(lines: Sequence[str], page: int | None = None) -> list[Block]:
    return _Reader(lines, page).blocks()


class _Reader:
    def __init__(self, lines: Sequence[str], page: int | None) -> None:
        self._lines = [line.rstrip() for line in lines]
        self._page = page
        self._widest = max((len(clean(line)) for line in self._lines), default=0)
        self._blocks: list[Block] = []
        self._paragraph: list[str] = []
        self._prose_until = 0

    def blocks(self) -> list[Block]:
        index = 0
        while index < len(self._lines):
            index = self._read_at(index)
        self._flush()
        return self._blocks

    def _read_at(self, index: int) -> int:
        text = clean(self._lines[index])
        if not text:
            self._flush()
            return index + 1
        rows, after = _table_at(self._lines, index) if index >= self._prose_until else ([], 0)
        if len(rows) >= 2 and _is_prose(rows):
            self._prose_until = after
        elif len(rows) >= 2:
            self._flush()
            add_table(self._blocks, [row.cells for row in rows], page=self._page)
            return after
        if (
            not rows
            and is_heading(text)
            and len(text) < SHORT_LINE * self._widest
            and self._may_start()
            and self._ends_items(index)
        ):
            self._flush()
            self._blocks.append(Block.heading(text, _level(text), self._page))
            return index + 1
        if _LIST_ITEM.match(text):
            self._flush()
        self._add_line(text)
        if text.endswith(_SENTENCE_END) and len(text) < SHORT_LINE * self._widest:
            self._flush()
        return index + 1

    def _may_start(self) -> bool:
        """Whether a new block may start here rather than the line going on a paragraph."""
        return not self._paragraph or self._paragraph[-1].endswith(_SENTENCE_END)

    def _ends_items(self, index: int) -> bool:
        """Whether text follows within two lines, and the line is not one numbered item of
        several (which only look like headings)."""
        after = self._around(index, 1, 2)
        if _NUMBERED_ITEM.match(self._lines[index].strip()) and any(
            _NUMBERED_ITEM.match(line.strip()) for line in self._around(index, -1, 1) + after[:1]
        ):
            return False
        return any(_row(line) or not is_heading(clean(line)) for line in after)

    def _around(self, index: int, step: int, count: int) -> list[str]:
        """Up to ``count`` lines with text from ``index`` on in the direction of ``step``."""
        found: list[str] = []
        index += step
        while 0 <= index < len(self._lines) and len(found) < count:
            if self._lines[index].strip():
                found.append(self._lines[index])
            index += step
        return found

    def _add_line(self, text: str) -> None:
        if self._paragraph:
            last = self._paragraph[-1]
            if last.endswith("-") and len(last) > 1 and last[-2].isalpha() and text[0].islower():
                self._paragraph[-1] = last[:-1] + text
                return
        self._paragraph.append(text)

    def _flush(self) -> None:
        if self._paragraph:
            self._blocks.append(Block.paragraph(" ".join(self._paragraph), self._page))
            self._paragraph = []


def is_heading(text: str) -> bool:
    """Whether a line, alone, could be a heading (see the module's rules)."""
    return (
        len(text) <= MAX_HEADING_LENGTH
        and len(text.split()) <= MAX_HEADING_WORDS
        and (text[0].isupper() or text[0].isdigit() or text[0] in "¿¡")
        and not text.endswith(_NOT_HEADING_END)
        and _LETTER.search(text) is not None
        and text.count("(") == text.count(")")
        and not _BULLET.match(text)
    )


def _level(text: str) -> int:
    numbered = _NUMBERED.match(text)
    return numbered.group(1).count(".") + 1 if numbered else 1


def _row(line: str) -> _Row | None:
    cells = list(_CELL.finditer(line))
    if not 2 <= len(cells) <= MAX_COLUMNS or _MARKER.fullmatch(cells[0].group()):
        return None
    return _Row(
        cells=tuple(cell.group() for cell in cells),
        starts=tuple(cell.start() for cell in cells),
        ends=tuple(cell.end() for cell in cells),
        tabbed="\t" in line,
    )


def _table_at(lines: Sequence[str], index: int) -> tuple[list[_Row], int]:
    """The rows of the table starting at ``index`` (empty when none) and the index after it."""
    first = _row(lines[index])
    if first is None or (len(first.cells) == 2 and _SECTION.fullmatch(first.cells[0])):
        return [], index
    rows, after, cursor = [first], index + 1, index + 1
    while cursor < len(lines):
        if not lines[cursor].strip():
            cursor += 1
            continue
        row = _row(lines[cursor])
        if row is None or not row.follows(rows[-1]):
            break
        rows.append(row)
        cursor += 1
        after = cursor
    return rows, after


def _is_prose(rows: Sequence[_Row]) -> bool:
    columns = zip(*(row.cells for row in rows), strict=True)
    long = sum(1 for cells in columns if sum(map(len, cells)) / len(cells) > PROSE_CELL_LENGTH)
    return long >= 2


def _near(position: int, above: int) -> bool:
    return abs(position - above) <= max(ALIGNMENT, ALIGNMENT_SHARE * max(position, above))
