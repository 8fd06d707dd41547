"""Readiness probes of the file store: the local directory takes a file, the FTP server a NOOP.

Not critical: without its file store the service still answers everything but uploads and
media, so ``/health/ready`` reports the store down without taking the service out.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from talia_core.shared.errors import ExternalServiceUnavailable

if TYPE_CHECKING:
    from adapters.files.ftp import FtpFileStore

NAME = "files"


class LocalFileStoreProbe:
    name = NAME
    critical = False

    def __init__(self, root: Path) -> None:
        self._root = root

    async def check(self) -> None:
        await asyncio.to_thread(_write_and_remove, self._root)


class FtpFileStoreProbe:
    name = NAME
    critical = False

    def __init__(self, store: FtpFileStore) -> None:
        self._store = store

    async def check(self) -> None:
        await self._store.ping()


def _write_and_remove(root: Path) -> None:
    # A hidden name: no key can name it, so it never clashes with a file of the store.
    probe = root / f".probe.{uuid.uuid4().hex}.tmp"
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise ExternalServiceUnavailable("local files", f"{root} is not writable: {error}") from (
            error
        )
