"""File stores behind the ``FileStore`` port, and the one rule of what a key may be.

A key is a relative path such as ``media/2026/11/<uuid>.jpg``: segments of 1 to 200 letters,
digits, ``.``, ``_`` and ``-`` joined by ``/``, each starting with a letter or a digit, 1,024
characters at most. So no absolute path, ``..``, ``.``, empty segment, backslash or hidden
name can be a key, and a store is free to keep its own files under names starting with a dot.
"""

from __future__ import annotations

import re

from talia_core.shared.errors import Malformed

MAX_KEY = 1024
MAX_MIME_TYPE = 255
# 200, so a store's own names built on a segment (``.<segment>.<uuid>.tmp``) fit in the
# 255 bytes most file systems allow a name.
_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")
_MIME_TYPE = re.compile(r"[!-~]+/[!-~]+(?:[ \t]*;[ -~\t]*)?")


def key_segments(key: str) -> list[str]:
    """The segments of a valid key; ``Malformed`` for anything else."""
    if not key or len(key) > MAX_KEY:
        raise Malformed(f"a file key must have 1 to {MAX_KEY} characters, not {len(key)}")
    segments = key.split("/")
    for segment in segments:
        if not _SEGMENT.fullmatch(segment):
            raise Malformed(
                f"file key {key[:100]!r}: {segment[:100]!r} is not a segment of letters, digits,"
                " '.', '_' and '-' that starts with a letter or digit"
            )
    return segments


def checked_mime_type(mime_type: str) -> str:
    """A mime type such as ``audio/ogg; codecs=opus``, as given; ``Malformed`` otherwise."""
    if len(mime_type) > MAX_MIME_TYPE or not _MIME_TYPE.fullmatch(mime_type):
        raise Malformed(f"{mime_type[:100]!r} is not a mime type")
    return mime_type
