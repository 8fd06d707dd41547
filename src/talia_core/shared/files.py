"""Where files are kept: received media, uploaded documents."""

from __future__ import annotations

from typing import Protocol

import attrs


@attrs.frozen
class Download:
    content: bytes
    mime_type: str


class FileStore(Protocol):
    async def put(self, key: str, content: bytes, mime_type: str) -> None: ...

    async def get(self, key: str) -> Download:
        """``NotFound`` when there is no such file."""
        ...

    async def delete(self, key: str) -> None:
        """Forget the file; a key with no file is already forgotten."""
        ...
