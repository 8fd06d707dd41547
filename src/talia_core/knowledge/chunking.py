"""A document's text cut into chunks that a search finds and an answer cites.

Blocks are read in order. Paragraphs under one heading path gather into chunks of at most
``max_chars``; a paragraph longer than a chunk is split at sentence ends (between words when
a sentence is too long), each piece starting with the end of the one before
(``overlap_chars``). A chunk begins with its heading path ("Pagos > Reembolsos") so that the
section's words are searchable too. A table is cut by rows, ``table_rows_per_chunk`` at a
time; each chunk repeats the table's title and writes every row as one line of
"Header: value" pairs, so a question naming a column and a cell finds the row (a column
with no value in any row says nothing and is left out). A heading with nothing under it
becomes a chunk of its own: no other word of the document is lost.

The heading path and a table's title take at most a quarter of a chunk (what does not fit
is left out of the chunk's first line and chunked as text instead); only a single word
longer than the room left is ever over ``max_chars``.
"""

from __future__ import annotations

import itertools
import re

import attrs

from talia_core.knowledge.model import MAX_SECTION_LENGTH, Chunk
from talia_core.knowledge.text import Block, BlockKind, ExtractedText
from talia_core.shared.ids import new_id

MIN_CHUNK_CHARS = 40
_SENTENCE_END = re.compile(r"[.!?…;:][\"'\u201d\u2019»)\]]*$")


def _overlap_fits(rules: ChunkingRules, attribute: attrs.Attribute[int], value: int) -> None:
    if not 0 <= value < rules.max_chars // 4:
        raise ValueError(f"overlap_chars must be from 0 to under a quarter of max_chars: {value}")


@attrs.frozen
class ChunkingRules:
    max_chars: int = attrs.field(default=1200, validator=attrs.validators.ge(MIN_CHUNK_CHARS))
    overlap_chars: int = attrs.field(default=150, validator=_overlap_fits)
    table_rows_per_chunk: int = attrs.field(default=2, validator=attrs.validators.ge(1))
    """Few rows a chunk: a question about one row (a price) meets that row under its title,
    not diluted among others. Of the retrieval benchmark's 40 table questions, chunks of 2
    rows put the row in the first five 35 times where chunks of 8 did 30 (hybrid search,
    multilingual-e5-small, words not yet stemmed)."""

    @property
    def head_chars(self) -> int:
        """Room for a chunk's first line: its heading path, a table's title."""
        return self.max_chars // 4


def chunk(
    text: ExtractedText, rules: ChunkingRules, *, document_id: str, collection: str
) -> list[Chunk]:
    """The chunks of ``text`` in reading order, positions from 0."""
    cutter = _Cutter(rules, document_id, collection)
    for block in text.blocks:
        cutter.add(block)
    return cutter.finish()


@attrs.define
class _Heading:
    text: str
    level: int
    page: int | None
    covered: bool = False
    """Its words are in a chunk already (in a chunk's first line)."""


class _Cutter:
    def __init__(self, rules: ChunkingRules, document_id: str, collection: str) -> None:
        self._rules = rules
        self._document_id = document_id
        self._collection = collection
        self._chunks: list[Chunk] = []
        self._path: list[_Heading] = []
        self._lines: list[str] = []
        self._page: int | None = None

    def add(self, block: Block) -> None:
        text = _clean(block.text)
        if block.kind is BlockKind.HEADING:
            if text:
                self._open_section(_Heading(text, max(block.level, 1), block.page))
        elif block.kind is BlockKind.TABLE and block.rows:
            self._table(text, block.rows, block.page)
        elif text:
            self._paragraph(text, block.page)

    def finish(self) -> list[Chunk]:
        self._flush()
        self._close_sections(0)
        return self._chunks

    def _open_section(self, heading: _Heading) -> None:
        self._flush()
        self._close_sections(heading.level)
        self._path.append(heading)

    def _close_sections(self, level: int) -> None:
        """Leave the sections at ``level`` or deeper; when a heading among them is in no
        chunk yet, the heading path becomes a chunk of its own."""
        if any(h.level >= level and not h.covered for h in self._path):
            path = " > ".join(h.text for h in self._path)
            for piece in _pieces(path, self._rules.max_chars, self._rules.overlap_chars):
                self._emit(_Head(), piece, self._path[-1].page)
            for heading in self._path:
                heading.covered = True
        while self._path and self._path[-1].level >= level:
            self._path.pop()

    def _paragraph(self, text: str, page: int | None) -> None:
        head = self._head()
        room = head.room(self._rules)
        if self._lines and len("\n".join([*self._lines, text])) > room:
            self._flush()
        if len(text) > room:
            self._flush()
            for piece in _pieces(text, room, self._rules.overlap_chars):
                self._emit(head, piece, page)
            return
        if not self._lines:
            self._page = page
        self._lines.append(text)

    def _flush(self) -> None:
        if self._lines:
            self._emit(self._head(), "\n".join(self._lines), self._page)
            self._lines = []

    def _table(self, title: str, rows: tuple[tuple[str, ...], ...], page: int | None) -> None:
        header = tuple(_clean(cell) for cell in rows[0])
        lines = [line for row in rows[1:] if (line := _row_line(header, row))]
        if not lines and any(header):
            lines = [" | ".join(cell for cell in header if cell)]
        if not lines:
            if title:
                self._paragraph(title, page)
            return
        self._flush()
        head = self._head()
        if title and len(head.with_line(title).text) <= self._rules.head_chars:
            head = head.with_line(title)
        elif title:
            for piece in _pieces(title, head.room(self._rules), self._rules.overlap_chars):
                self._emit(head, piece, page)
        room = head.room(self._rules)
        group: list[str] = []
        for line in lines:
            fuller = "\n".join([*group, line])
            if group and (len(group) == self._rules.table_rows_per_chunk or len(fuller) > room):
                self._emit(head, "\n".join(group), page)
                group = []
            if len(line) > room:
                for piece in _pieces(line, room, self._rules.overlap_chars):
                    self._emit(head, piece, page)
            else:
                group.append(line)
        if group:
            self._emit(head, "\n".join(group), page)

    def _head(self) -> _Head:
        """The heading path, or its last heading when the whole path takes too much room."""
        if not self._path:
            return _Head()
        whole = " > ".join(h.text for h in self._path)
        if len(whole) <= self._rules.head_chars:
            return _Head(whole, tuple(self._path))
        last = self._path[-1]
        if len(last.text) <= self._rules.head_chars:
            return _Head(last.text, (last,))
        return _Head()

    def _emit(self, head: _Head, body: str, page: int | None) -> None:
        for heading in head.headings:
            heading.covered = True
        section = " > ".join(h.text for h in self._path)
        if len(section) > MAX_SECTION_LENGTH:
            section = section[: MAX_SECTION_LENGTH - 1] + "…"
        self._chunks.append(
            Chunk(
                id=new_id(),
                document_id=self._document_id,
                collection=self._collection,
                position=len(self._chunks),
                text=f"{head.text}\n{body}" if head.text else body,
                section=section,
                page=page,
            )
        )


@attrs.frozen
class _Head:
    """A chunk's first lines (heading path, table title) and the headings they name."""

    text: str = ""
    headings: tuple[_Heading, ...] = ()

    def with_line(self, line: str) -> _Head:
        return _Head(f"{self.text}\n{line}" if self.text else line, self.headings)

    def room(self, rules: ChunkingRules) -> int:
        """What is left of a chunk for its body."""
        return rules.max_chars - (len(self.text) + 1 if self.text else 0)


def _clean(text: str) -> str:
    return " ".join(text.split())


def _row_line(header: tuple[str, ...], row: tuple[str, ...]) -> str:
    """ "Header: value" for every cell that has a value (the value alone under no header)."""
    cells = itertools.zip_longest(header, (_clean(cell) for cell in row), fillvalue="")
    return " | ".join(f"{name}: {value}" if name else value for name, value in cells if value)


def _pieces(text: str, room: int, overlap: int) -> list[str]:
    """``text`` in pieces of at most ``room`` characters, cut at a sentence end when one
    leaves the piece at least half full, else between words; each piece after the first
    starts with at most ``overlap`` characters of whole words from the end of the one
    before, from a sentence start when one is among them."""
    words = text.split()
    pieces: list[str] = []
    start = 0
    while start < len(words):
        end = _fill(words, start, room)
        if end < len(words):
            end = _sentence_break(words, start, end, room)
        pieces.append(" ".join(words[start:end]))
        if end == len(words):
            break
        # No overlap that would leave the next piece no room to move past this one.
        start = _overlap_start(words, start, end, min(overlap, room - 1 - len(words[end])))
    return pieces


def _fill(words: list[str], start: int, room: int) -> int:
    """The end of the longest run of words from ``start`` within ``room`` (one word at least)."""
    length = len(words[start])
    end = start + 1
    while end < len(words) and length + 1 + len(words[end]) <= room:
        length += 1 + len(words[end])
        end += 1
    return end


def _sentence_break(words: list[str], start: int, end: int, room: int) -> int:
    length = len(" ".join(words[start:end]))
    for cut in range(end, start, -1):
        if length < room // 2:
            break
        if _SENTENCE_END.search(words[cut - 1]):
            return cut
        length -= len(words[cut - 1]) + 1
    return end


def _overlap_start(words: list[str], start: int, end: int, overlap: int) -> int:
    best = sentence = end
    length = -1
    cut = end
    while cut - 1 > start:
        length += len(words[cut - 1]) + 1
        if length > overlap:
            break
        cut -= 1
        best = cut
        if _SENTENCE_END.search(words[cut - 1]):
            sentence = cut
    return sentence if sentence != end else best
