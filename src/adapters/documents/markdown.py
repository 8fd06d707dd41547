"""Markdown read line by line, the CommonMark blocks that carry text.

ATX (``## Envíos``) and setext (underlined) headings with their levels; paragraphs; a list
kept as one paragraph, an item a line; pipe tables as table blocks (the header row, then
the rows under its delimiter row up to a blank line or another block); fenced code as a
paragraph of its lines; block quotes read as their content; YAML front matter and thematic
breaks left out. Inline markup is reduced to its text: links and images to their text,
emphasis and code marks, HTML tags and backslash escapes dropped, entities decoded. The
first level-1 heading is the title.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from adapters.documents.blocks import add_table, clean
from talia_core.knowledge.text import Block, BlockKind, ExtractedText

_FRONT_MATTER_LINES = 100
_ATX = re.compile(r" {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*")
_SETEXT = re.compile(r" {0,3}(=+|-+)[ \t]*")
_THEMATIC = re.compile(r" {0,3}(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,})")
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_DELIMITER_ROW = re.compile(r" {0,3}\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*")
_LIST_ITEM = re.compile(r" {0,3}(?:([-*+])|(\d{1,9}[.)]))[ \t]+(.*)")
_QUOTE = re.compile(r"^(?: {0,3}>[ ]?)+")
_CELL_SPLIT = re.compile(r"(?<!\\)\|")

_INLINE = (
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),
    (re.compile(r"\[([^\]]+)\]\[[^\]]*\]"), r"\1"),
    (re.compile(r"<((?:https?|mailto):[^>\s]+)>"), r"\1"),
    (re.compile(r"</?[A-Za-z][^>\n]*>"), ""),
    (re.compile(r"(\*\*|__|~~)(?=\S)(.+?)(?<=\S)\1"), r"\2"),
    (re.compile(r"(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?![\w*])"), r"\1"),
    (re.compile(r"(?<!\w)_(?=\S)(.+?)(?<=\S)_(?!\w)"), r"\1"),
    (re.compile(r"`+([^`]*)`+"), r"\1"),
    (re.compile(r"\\([!-/:-@\[-`{-~])"), r"\1"),
)


def read_markdown(text: str) -> ExtractedText:
    blocks = _Reader(text.splitlines()).blocks()
    title = next((b.text for b in blocks if b.kind is BlockKind.HEADING and b.level == 1), None)
    return ExtractedText(blocks=tuple(blocks), title=title)


def inline(text: str) -> str:
    """Markdown's inline markup reduced to the text it shows."""
    for pattern, replacement in _INLINE:
        text = pattern.sub(replacement, text)
    return clean(html.unescape(text))


class _Reader:
    def __init__(self, lines: Sequence[str]) -> None:
        self._lines = [_QUOTE.sub("", line) for line in lines]
        self._blocks: list[Block] = []
        self._paragraph: list[str] = []
        self._is_list = False

    def blocks(self) -> list[Block]:
        index = self._after_front_matter()
        while index < len(self._lines):
            index = self._read_at(index)
        self._flush()
        return self._blocks

    def _after_front_matter(self) -> int:
        if not self._lines or self._lines[0].strip() != "---":
            return 0
        for index, line in enumerate(self._lines[1:_FRONT_MATTER_LINES], start=1):
            if line.strip() in ("---", "..."):
                return index + 1
        return 0

    def _read_at(self, index: int) -> int:
        line = self._lines[index]
        if not line.strip():
            self._flush()
            return index + 1
        if fence := _FENCE.match(line):
            return self._code(index, fence.group(1))
        if atx := _ATX.fullmatch(line):
            self._flush()
            self._heading(inline(atx.group(2) or ""), len(atx.group(1)))
            return index + 1
        if (setext := _SETEXT.fullmatch(line)) and self._paragraph and not self._is_list:
            text = inline(" ".join(self._paragraph))
            self._paragraph = []
            self._heading(text, 1 if setext.group(1).startswith("=") else 2)
            return index + 1
        if _THEMATIC.fullmatch(line):
            self._flush()
            return index + 1
        if self._starts_table(index):
            return self._table(index)
        self._add_line(line)
        return index + 1

    def _add_line(self, line: str) -> None:
        item = _LIST_ITEM.fullmatch(line)
        if item and not self._is_list:
            self._flush()
            self._is_list = True
        if item:
            bullet, number, text = item.groups()
            self._paragraph.append(f"- {text}" if bullet else f"{number} {text}")
        else:
            self._paragraph.append(line)

    def _heading(self, text: str, level: int) -> None:
        if text:
            self._blocks.append(Block.heading(text, level))

    def _code(self, index: int, fence: str) -> int:
        self._flush()
        body: list[str] = []
        index += 1
        while index < len(self._lines):
            line = self._lines[index].strip()
            index += 1
            if line.startswith(fence[0] * len(fence)) and not line.strip(fence[0]):
                break
            body.append(self._lines[index - 1].rstrip())
        code = "\n".join(body).strip("\n")
        if code.strip():
            self._blocks.append(Block.paragraph(code))
        return index

    def _starts_table(self, index: int) -> bool:
        return (
            "|" in self._lines[index]
            and index + 1 < len(self._lines)
            and "|" in self._lines[index + 1]
            and _DELIMITER_ROW.fullmatch(self._lines[index + 1]) is not None
        )

    def _table(self, index: int) -> int:
        self._flush()
        rows = [_cells(self._lines[index])]
        index += 2
        while index < len(self._lines) and not _ends_table(self._lines[index]):
            rows.append(_cells(self._lines[index]))
            index += 1
        add_table(self._blocks, rows)
        return index

    def _flush(self) -> None:
        if self._paragraph:
            if self._is_list:
                text = "\n".join(filter(None, (inline(line) for line in self._paragraph)))
            else:
                text = inline(" ".join(self._paragraph))
            if text:
                self._blocks.append(Block.paragraph(text))
        self._paragraph = []
        self._is_list = False


def _ends_table(line: str) -> bool:
    """A blank line or another block ends a table; any other line is a row, pipes or not."""
    return (
        not line.strip()
        or any(pattern.fullmatch(line) for pattern in (_ATX, _THEMATIC, _LIST_ITEM))
        or _FENCE.match(line) is not None
    )


def _cells(line: str) -> list[str]:
    row = line.strip()
    if row.startswith("|"):
        row = row[1:]
    if row.endswith("|") and not row.endswith("\\|"):
        row = row[:-1]
    return [inline(cell) for cell in _CELL_SPLIT.split(row)]
