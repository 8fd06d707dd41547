"""FTP servers for the file store's tests: each test its own, plain or FTPS, on a free port."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from adapters.files.ftp import FtpFileStore
from adapters.files.ftp_connections import FtpServer, tls_context
from tests.ftp_server import PASSWORD, USER, Authority, FtpServerThread, ftp_server, make_authority

TIMEOUT_SECONDS = 5.0


@pytest.fixture(scope="session")
def authority(tmp_path_factory: pytest.TempPathFactory) -> Authority:
    return make_authority(tmp_path_factory.mktemp("ca"))


@pytest.fixture
def plain_server(tmp_path: Path) -> Iterator[FtpServerThread]:
    with ftp_server(tmp_path / "home") as server:
        yield server


@pytest.fixture
def tls_server(tmp_path: Path, authority: Authority) -> Iterator[FtpServerThread]:
    with ftp_server(tmp_path / "home", authority) as server:
        yield server


def server_of(
    port: int, *, ca_file: Path | None = None, user: str = USER, password: str = PASSWORD
) -> FtpServer:
    context = tls_context(str(ca_file)) if ca_file else None
    return FtpServer("127.0.0.1", port, user, password, context, TIMEOUT_SECONDS)


@pytest.fixture
async def plain_store(plain_server: FtpServerThread) -> AsyncIterator[FtpFileStore]:
    store = FtpFileStore(server_of(plain_server.port), "/files")
    yield store
    await store.close()


@pytest.fixture
async def tls_store(
    tls_server: FtpServerThread, authority: Authority
) -> AsyncIterator[FtpFileStore]:
    store = FtpFileStore(server_of(tls_server.port, ca_file=authority.ca_file), "/files")
    yield store
    await store.close()


def files_under(directory: Path) -> set[str]:
    return {str(p.relative_to(directory)) for p in directory.rglob("*") if p.is_file()}
