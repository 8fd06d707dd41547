"""HTML with the standard library's ``html.parser``: headings ``h1`` to ``h6``, paragraphs of
``p``, ``li``, ``div`` and the other block elements, and tables (``th``/``td`` cells, a
``colspan`` repeating its cell; the ``caption`` is the title). What a page shows around its
content (``nav``, ``footer``) and what it does not show (``script``, ``style``,
``noscript``, ``template``, ``svg``, ``iframe``) is left out. Entities are decoded; white
space collapses as a browser collapses it, but inside ``pre``; ``br`` breaks the line. The
``title`` element is the title. A table nested in a cell comes out as its own table, before
the table holding it; ``rowspan`` is not followed.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from adapters.documents import unreadable
from adapters.documents.blocks import add_table, clean
from talia_core.knowledge.text import Block, ExtractedText

MAX_COLSPAN = 50

_SKIPPED = frozenset({"script", "style", "nav", "footer", "noscript", "template", "svg", "iframe"})
_HEADINGS = {f"h{level}": level for level in range(1, 7)}
_BLOCK_ELEMENTS = frozenset(
    {
        "address", "article", "aside", "blockquote", "body", "dd", "details", "dialog", "div",
        "dl", "dt", "fieldset", "figcaption", "figure", "form", "header", "hr", "html", "li",
        "main", "ol", "p", "pre", "section", "summary", "ul",
    }
)  # fmt: skip
_SPACES = re.compile(r"\s+")


class _Table:
    def __init__(self) -> None:
        self.rows: list[list[str]] = []
        self.cell: list[str] | None = None
        self.colspan = 1
        self.caption = ""
        self.in_caption = False

    def close_cell(self) -> None:
        if self.cell is not None:
            if not self.rows:
                self.rows.append([])
            self.rows[-1].extend([clean("".join(self.cell))] * self.colspan)
            self.cell = None


def read_html(text: str) -> ExtractedText:
    parser = _Page()
    try:
        parser.feed(text)
        parser.close()
    except Exception as error:  # markup html.parser gives up on
        raise unreadable("the HTML cannot be read", error) from error
    parser.flush()
    return ExtractedText(blocks=tuple(parser.blocks), title=clean(parser.title) or None)


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self.title = ""
        self._text: list[str] = []
        self._heading = 0
        self._skipping = 0
        self._in_title = False
        self._in_pre = 0
        self._tables: list[_Table] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self._skipping += 1
        elif self._skipping:
            return
        elif tag == "title":
            self._in_title = True
        elif tag == "br":
            self._write("\n")
        elif tag == "table":
            self.flush()
            self._tables.append(_Table())
        elif self._tables and tag in ("tr", "td", "th", "caption"):
            self._table_tag(self._tables[-1], tag, dict(attrs))
        elif tag in _HEADINGS or tag in _BLOCK_ELEMENTS:
            self._break()
            if not self._tables:
                self._heading = _HEADINGS.get(tag, 0)
            self._in_pre += tag == "pre"

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self._skipping = max(0, self._skipping - 1)
        elif self._skipping:
            return
        elif tag == "title":
            self._in_title = False
        elif tag == "table" and self._tables:
            table = self._tables.pop()
            table.close_cell()
            add_table(self.blocks, table.rows, caption=table.caption)
        elif self._tables and tag in ("td", "th"):
            self._tables[-1].close_cell()
        elif self._tables and tag == "caption":
            self._tables[-1].in_caption = False
        elif tag in _HEADINGS or tag in _BLOCK_ELEMENTS:
            self._break()
            self._in_pre = max(0, self._in_pre - (tag == "pre"))

    def handle_data(self, data: str) -> None:
        if self._skipping:
            return
        if self._in_title:
            self.title += data
            return
        self._write(data if self._in_pre else _SPACES.sub(" ", data))

    def flush(self) -> None:
        """The text gathered since the last block, as a heading or a paragraph."""
        lines = [clean(line) for line in "".join(self._text).split("\n")]
        text = "\n".join(line for line in lines if line)
        if text and self._heading:
            self.blocks.append(Block.heading(clean(text), self._heading))
        elif text:
            self.blocks.append(Block.paragraph(text))
        self._text = []
        self._heading = 0

    def _write(self, data: str) -> None:
        table = self._tables[-1] if self._tables else None
        if table is not None and table.in_caption:
            table.caption += data
        elif table is not None and table.cell is not None:
            table.cell.append(data)
        elif table is None:
            self._text.append(data)

    def _break(self) -> None:
        """A block element starts or ends: inside a cell a space, elsewhere a new block."""
        if self._tables:
            self._write(" ")
        else:
            self.flush()

    def _table_tag(self, table: _Table, tag: str, attrs: dict[str, str | None]) -> None:
        table.close_cell()
        if tag == "tr":
            table.rows.append([])
        elif tag == "caption":
            table.in_caption = True
        else:
            table.cell = []
            span = attrs.get("colspan") or "1"
            table.colspan = min(int(span), MAX_COLSPAN) if span.isdigit() and int(span) else 1
