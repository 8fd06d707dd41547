"""The file store's FTP server and the store's readiness probe, from the settings; aioftp is
imported only when the settings choose FTP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from adapters.files.probe import FtpFileStoreProbe, LocalFileStoreProbe
from entrypoints.settings import Settings
from entrypoints.settings.storage import StorageProvider
from entrypoints.wiring.probes import Probe

if TYPE_CHECKING:
    from adapters.files.ftp import FtpFileStore


def ftp_file_store(settings: Settings) -> FtpFileStore:
    from adapters.files.ftp import FtpFileStore
    from adapters.files.ftp_connections import FtpServer, tls_context

    storage = settings.storage
    server = FtpServer(
        host=storage.ftp_host,
        port=storage.ftp_port,
        user=storage.ftp_user,
        password=storage.ftp_password.get_secret_value(),
        tls=tls_context(storage.ftp_ca_file) if storage.ftp_tls else None,
        timeout_seconds=storage.ftp_timeout_seconds,
    )
    return FtpFileStore(server, storage.ftp_root)


async def ftp_connections_lifetime(
    settings: Settings, store: Callable[[], FtpFileStore]
) -> AsyncIterator[None]:
    """The kept connections are closed at the end, when the store is the FTP one."""
    yield
    if settings.storage.provider is StorageProvider.FTP:
        await store().close()


def file_store_probe(settings: Settings, ftp: Callable[[], FtpFileStore]) -> Probe:
    if settings.storage.provider is StorageProvider.FTP:
        return FtpFileStoreProbe(ftp())
    return LocalFileStoreProbe(Path(settings.storage.local_dir))
