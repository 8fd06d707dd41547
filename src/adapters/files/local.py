"""Files in a local directory: the embedded default ``FileStore``.

A key is a path under the root. Each file is written to a temporary file beside it, flushed
to disk and moved into place with ``os.replace``, so a reader sees the old content or the
new one, never a part of either. The mime type is kept, as given, in a sidecar
``.<name>.mime`` beside the file (no key starts with a dot, so none clashes with it), put in
place just before the content; a file copied in by hand, with no sidecar, is read with the
type its extension suggests. Blocking calls run in a worker thread.
"""

from __future__ import annotations

import asyncio
import mimetypes
import os
import uuid
from pathlib import Path

from adapters.files import checked_mime_type, key_segments
from talia_core.shared.errors import Conflict, ExternalServiceUnavailable, NotFound
from talia_core.shared.files import Download

SERVICE = "local files"
UNKNOWN_TYPE = "application/octet-stream"
_CLASHES = (FileExistsError, IsADirectoryError, NotADirectoryError)


class LocalFileStore:
    def __init__(self, root: Path) -> None:
        self._root = root

    @property
    def root(self) -> Path:
        return self._root

    async def put(self, key: str, content: bytes, mime_type: str) -> None:
        path = self._path(key)
        checked_mime_type(mime_type)
        await asyncio.to_thread(_write, key, path, content, mime_type)

    async def get(self, key: str) -> Download:
        return await asyncio.to_thread(_read, key, self._path(key))

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(_remove, key, self._path(key))

    def _path(self, key: str) -> Path:
        return self._root.joinpath(*key_segments(key))


def _write(key: str, path: Path, content: bytes, mime_type: str) -> None:
    try:
        if path.is_dir():
            raise _clash(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        _replace(_sidecar(path), mime_type.encode("ascii"))
        _replace(path, content)
    except _CLASHES:
        raise _clash(key) from None
    except OSError as error:
        raise ExternalServiceUnavailable(SERVICE, f"cannot write {key!r}: {error}") from error


def _read(key: str, path: Path) -> Download:
    try:
        content = path.read_bytes()
    except (FileNotFoundError, *_CLASHES):
        raise NotFound("file", key) from None
    except OSError as error:
        raise ExternalServiceUnavailable(SERVICE, f"cannot read {key!r}: {error}") from error
    try:
        mime_type = _sidecar(path).read_text("ascii").strip()
    except FileNotFoundError:
        mime_type = mimetypes.guess_type(path.name)[0] or UNKNOWN_TYPE
    except (OSError, UnicodeDecodeError) as error:
        raise ExternalServiceUnavailable(SERVICE, f"cannot read {key!r}: {error}") from error
    return Download(content=content, mime_type=mime_type)


def _remove(key: str, path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
        _sidecar(path).unlink(missing_ok=True)
    except _CLASHES:
        raise NotFound("file", key) from None
    except OSError as error:
        raise ExternalServiceUnavailable(SERVICE, f"cannot delete {key!r}: {error}") from error


def _clash(key: str) -> Conflict:
    return Conflict(f"file key {key!r} clashes with the folder of another key")


def _sidecar(path: Path) -> Path:
    return path.with_name(f".{path.name}.mime")


def _replace(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with temporary.open("xb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
