"""Every format read in this process: pypdf, python-docx and the standard library.

Reading is CPU-bound, so it runs in a worker thread; the kind comes from the bytes
(``sniffing``), never from a file's name. Limits are the constructor's: pages read of a
PDF, and what a DOCX may unpack to, in all and as a ratio per part. pypdf and python-docx
(25 MB between them once imported) are imported by the first document of their kind.
"""

from __future__ import annotations

import asyncio

from adapters.documents.encoding import decoded
from adapters.documents.markdown import read_markdown
from adapters.documents.plain import read_text
from adapters.documents.sniffing import sniff
from adapters.documents.webpage import read_html
from talia_core.knowledge.errors import Unreadable
from talia_core.knowledge.model import DocumentKind
from talia_core.knowledge.text import ExtractedText

MAX_PAGES = 500
MAX_UNPACKED_BYTES = 50 * 1024 * 1024
MAX_COMPRESSION_RATIO = 100


class LocalTextExtractor:
    def __init__(
        self,
        *,
        max_pages: int = MAX_PAGES,
        max_unpacked_bytes: int = MAX_UNPACKED_BYTES,
        max_compression_ratio: int = MAX_COMPRESSION_RATIO,
    ) -> None:
        self._max_pages = max_pages
        self._max_unpacked_bytes = max_unpacked_bytes
        self._max_compression_ratio = max_compression_ratio

    async def sniff(self, content: bytes) -> DocumentKind | None:
        """On a thread: 20 MB of text take a while to decode and scan."""
        return await asyncio.to_thread(sniff, content)

    async def extract(self, content: bytes, kind: DocumentKind) -> ExtractedText:
        text = await asyncio.to_thread(self._read, content, kind)
        if text.is_empty:
            raise Unreadable("no text")
        return text

    def _read(self, content: bytes, kind: DocumentKind) -> ExtractedText:
        match kind:
            case DocumentKind.PDF:
                from adapters.documents.pdf import read_pdf

                return read_pdf(content, self._max_pages)
            case DocumentKind.DOCX:
                from adapters.documents.word import read_docx

                return read_docx(
                    content,
                    max_unpacked_bytes=self._max_unpacked_bytes,
                    max_ratio=self._max_compression_ratio,
                )
            case DocumentKind.MARKDOWN:
                return read_markdown(decoded(content))
            case DocumentKind.HTML:
                return read_html(decoded(content))
            case DocumentKind.TEXT:
                return read_text(decoded(content))
