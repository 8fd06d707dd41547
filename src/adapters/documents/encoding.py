"""Which bytes are text: UTF-8 (with or without its BOM), UTF-16 with its BOM, else
Windows-1252 when every byte decodes. Text has no NUL nor other control characters but
tab, line breaks and form feed, so binary files decoded by the permissive Windows-1252
are still told apart."""

from __future__ import annotations

import codecs
import re

from talia_core.knowledge.errors import Unreadable

_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f]")


def decode(content: bytes) -> str | None:
    """The text the bytes hold, or ``None`` when they are not text."""
    if content.startswith(codecs.BOM_UTF8):
        encodings: tuple[str, ...] = ("utf-8-sig",)
    elif content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings = ("utf-16",)
    else:
        encodings = ("utf-8", "cp1252")
    for encoding in encodings:
        try:
            text = content.decode(encoding)
        except UnicodeDecodeError:
            continue
        return None if _CONTROL.search(text) else text
    return None


def decoded(content: bytes) -> str:
    """The text the bytes hold; ``Unreadable`` when they are not text."""
    text = decode(content)
    if text is None:
        raise Unreadable("the file is not text in UTF-8, UTF-16 or Windows-1252")
    return text
