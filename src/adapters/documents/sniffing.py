"""The kind of a document told from its bytes, whatever its name says.

``%PDF-`` opens a PDF. A zip is a Word document only when it holds ``word/document.xml``
and its content types name the main part of a WordprocessingML document (a macro-enabled
or template file, or any other zip, is no kind). Text (see ``encoding``) is HTML when it
opens with a doctype, an ``<html>`` tag or a common tag (after a BOM, white space, an XML
declaration or comments); Markdown when it has Markdown's structure (ATX or ``=``-underlined
headings, a pipe table's delimiter row, a code fence, or two list items); plain text
otherwise. Anything else, no bytes included, is no kind.
"""

from __future__ import annotations

import io
import re
import zipfile
from itertools import islice

from adapters.documents.encoding import decode
from talia_core.knowledge.model import DocumentKind

WORD_MAIN_PART = b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
MAX_CONTENT_TYPES_BYTES = 1024 * 1024
"""``[Content_Types].xml`` is read only when it unpacks to this at most (it is a few KB)."""

_HTML_OPENING = re.compile(
    r"(?:<\?xml[^>]*\?>\s*)?(?:<!--.*?-->\s*)*"
    r"<(?:!doctype\s+html|html|head|body|meta|title|link|div|p|h[1-6]|table|section"
    r"|article|main|header|ul|ol)[\s>/]",
    re.IGNORECASE | re.DOTALL,
)
_HTML_HEAD_CHARS = 4096
_MARKDOWN = re.compile(
    r"^ {0,3}(?:#{1,6}[ \t]+\S|```|~~~|=+[ \t]*$"
    r"|\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)+\|?[ \t]*$)",
    re.MULTILINE,
)
_LIST_ITEM = re.compile(r"^ {0,3}(?:[-*+]|\d{1,9}[.)])[ \t]+\S", re.MULTILINE)


def sniff(content: bytes) -> DocumentKind | None:
    if not content:
        return None
    if content.startswith(b"%PDF-"):
        return DocumentKind.PDF
    if content.startswith(b"PK\x03\x04"):
        return DocumentKind.DOCX if _is_word(content) else None
    text = decode(content)
    if text is None:
        return None
    if _HTML_OPENING.match(text.lstrip(" \t\r\n\f\ufeff")[:_HTML_HEAD_CHARS]):
        return DocumentKind.HTML
    if _MARKDOWN.search(text) or len(list(islice(_LIST_ITEM.finditer(text), 2))) == 2:
        return DocumentKind.MARKDOWN
    return DocumentKind.TEXT


def _is_word(content: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())
            if "word/document.xml" not in names or "[Content_Types].xml" not in names:
                return False
            if archive.getinfo("[Content_Types].xml").file_size > MAX_CONTENT_TYPES_BYTES:
                return False
            return WORD_MAIN_PART in archive.read("[Content_Types].xml")
    except Exception:  # a broken or encrypted zip says so in many ways: it is no document
        return False
