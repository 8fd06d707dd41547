"""Files held in this process: the fake ``FileStore``, refusing what the local one refuses."""

from __future__ import annotations

from adapters.files import checked_mime_type, key_segments
from talia_core.shared.errors import Conflict, NotFound
from talia_core.shared.files import Download


class InMemoryFileStore:
    def __init__(self) -> None:
        self._files: dict[str, Download] = {}

    def keys(self) -> list[str]:
        """Every key held, sorted."""
        return sorted(self._files)

    async def put(self, key: str, content: bytes, mime_type: str) -> None:
        segments = key_segments(key)
        checked_mime_type(mime_type)
        # As in a directory, a key cannot be both a file and the folder of other keys.
        folders = ("/".join(segments[:end]) for end in range(1, len(segments)))
        if any(folder in self._files for folder in folders) or any(
            other.startswith(key + "/") for other in self._files
        ):
            raise Conflict(f"file key {key!r} clashes with the folder of another key")
        self._files[key] = Download(content=bytes(content), mime_type=mime_type)

    async def get(self, key: str) -> Download:
        key_segments(key)
        try:
            return self._files[key]
        except KeyError:
            raise NotFound("file", key) from None

    async def delete(self, key: str) -> None:
        key_segments(key)
        self._files.pop(key, None)
