"""Text out of uploaded documents, behind the ``TextExtractor`` port.

``extractor.LocalTextExtractor`` sniffs the kind from the bytes (``sniffing``), then reads
each format in its own module (``pdf``, ``word``, ``markdown``, ``webpage``, ``plain``) into
the core's ``ExtractedText``; ``layout`` finds paragraphs, headings and tables in lines of
text laid out on a page, ``blocks`` shapes tables the same way for every format.
"""

from __future__ import annotations

from talia_core.knowledge.errors import Unreadable

MAX_ERROR_DETAIL = 200
"""A parser's own words on why it failed, shortened to this on purpose for the reason."""


def unreadable(what: str, error: Exception) -> Unreadable:
    """``Unreadable`` saying ``what`` failed and the parser's words on why."""
    return Unreadable(f"{what}: {(str(error) or type(error).__name__)[:MAX_ERROR_DETAIL]}")
