"""The file store contract on a real FTP server, plain and FTPS, and what only FTP meets: lost
connections, refused logins, untrusted certificates, uploads cut or damaged on the way."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from adapters.files.ftp import FtpFileStore
from adapters.resilience import HyxResilienceRunner, resilient
from entrypoints.settings import PolicySettings
from entrypoints.wiring.policies import policy
from talia_core.shared.errors import ExternalServiceUnavailable, Malformed, NotFound, RequestRefused
from talia_core.shared.files import Download
from tests.contracts.files.file_store import JPEG, KEY, UNSAFE_KEYS, FileStoreContract, Footprint
from tests.ftp_server import READER, Authority, FtpServerThread, ftp_server, make_authority
from tests.integration.files.conftest import files_under, server_of


class PlainFtpFileStoreTests(FileStoreContract):
    @pytest.fixture
    def store(self, plain_store: FtpFileStore) -> FtpFileStore:
        return plain_store

    @pytest.fixture
    def footprint(self, plain_server: FtpServerThread) -> Footprint:
        return lambda: files_under(plain_server.home)


class TlsFtpFileStoreTests(FileStoreContract):
    @pytest.fixture
    def store(self, tls_store: FtpFileStore) -> FtpFileStore:
        return tls_store

    @pytest.fixture
    def footprint(self, tls_server: FtpServerThread) -> Footprint:
        return lambda: files_under(tls_server.home)


def quick_retries(store: FtpFileStore) -> FtpFileStore:
    settings = PolicySettings(retry_base_delay_seconds=0.01, retry_max_delay_seconds=0.05)
    return resilient(store, HyxResilienceRunner("ftp", policy(settings)))


async def test_a_file_lies_under_the_root_as_its_key_says(
    plain_store: FtpFileStore, plain_server: FtpServerThread
) -> None:
    await plain_store.put(KEY, JPEG, "image/jpeg")

    path = plain_server.home / "files" / KEY
    assert path.read_bytes() == JPEG
    assert path.with_name(f".{path.name}.mime").read_text() == "image/jpeg"
    sidecar = path.with_name(f".{path.name}.mime").relative_to(plain_server.home)
    assert files_under(plain_server.home) == {f"files/{KEY}", str(sidecar)}


async def test_a_connection_the_server_dropped_while_idle_is_replaced_unseen(
    tmp_path: Path,
) -> None:
    with ftp_server(tmp_path / "home", idle_seconds=0.3) as server:
        store = FtpFileStore(server_of(server.port), "/files")
        await store.put(KEY, JPEG, "image/jpeg")
        await asyncio.sleep(0.8)

        assert await store.get(KEY) == Download(JPEG, "image/jpeg")
        assert server.faults.logins == 2
        await store.close()


async def test_an_upload_whose_connection_is_cut_is_retried_and_lands(
    plain_store: FtpFileStore, plain_server: FtpServerThread
) -> None:
    plain_server.faults.cuts = 2
    content = bytes(range(256)) * 64

    await quick_retries(plain_store).put(KEY, content, "image/jpeg")

    assert plain_server.faults.cuts == 0
    assert await plain_store.get(KEY) == Download(content, "image/jpeg")


async def test_a_half_uploaded_file_never_appears_under_its_key(
    plain_store: FtpFileStore, plain_server: FtpServerThread
) -> None:
    await plain_store.put(KEY, b"the first version", "image/jpeg")
    plain_server.faults.cuts = 2  # the kept connection's attempt, then a fresh one's

    with pytest.raises(ExternalServiceUnavailable):
        await plain_store.put(KEY, bytes(range(256)) * 64, "image/jpeg")

    assert await plain_store.get(KEY) == Download(b"the first version", "image/jpeg")
    visible = {name for name in files_under(plain_server.home) if "/." not in name}
    assert visible == {f"files/{KEY}"}


async def test_a_file_that_arrives_damaged_is_never_put_in_place(
    plain_store: FtpFileStore, plain_server: FtpServerThread
) -> None:
    plain_server.faults.hash = "false"

    with pytest.raises(ExternalServiceUnavailable, match="arrived damaged"):
        await plain_store.put(KEY, JPEG, "image/jpeg")

    with pytest.raises(NotFound):
        await plain_store.get(KEY)
    assert files_under(plain_server.home) == set()


async def test_the_servers_own_hash_checks_an_upload_when_it_offers_one(
    plain_store: FtpFileStore, plain_server: FtpServerThread
) -> None:
    plain_server.faults.hash = "true"

    await plain_store.put(KEY, JPEG, "image/jpeg")

    assert plain_server.faults.hashes == 2  # the sidecar and the file
    assert await plain_store.get(KEY) == Download(JPEG, "image/jpeg")


@pytest.mark.parametrize("key", UNSAFE_KEYS[:8])
async def test_a_bad_key_is_refused_before_any_connection(
    plain_server: FtpServerThread, key: str
) -> None:
    store = FtpFileStore(server_of(plain_server.port), "/files")

    with pytest.raises(Malformed):
        await store.put(key, JPEG, "image/jpeg")
    with pytest.raises(Malformed):
        await store.get(key)
    with pytest.raises(Malformed):
        await store.delete(key)

    assert plain_server.faults.logins == 0


async def test_a_wrong_password_is_refused_clearly_and_not_retried(
    plain_server: FtpServerThread,
) -> None:
    store = quick_retries(FtpFileStore(server_of(plain_server.port, password="wrong"), "/"))

    with pytest.raises(RequestRefused, match=r"logging in to 127\.0\.0\.1:\d+ as 'talia': 530"):
        await store.put(KEY, JPEG, "image/jpeg")

    assert plain_server.faults.refused_logins == 1
    assert files_under(plain_server.home) == set()


async def test_tls_with_a_certificate_of_an_unknown_authority_is_refused(
    tls_server: FtpServerThread, tmp_path: Path
) -> None:
    stranger: Authority = make_authority(tmp_path / "other-ca", "Someone else's CA")
    store = FtpFileStore(server_of(tls_server.port, ca_file=stranger.ca_file), "/")

    with pytest.raises(RequestRefused, match="certificate is not trusted"):
        await store.put(KEY, JPEG, "image/jpeg")

    assert tls_server.faults.logins == 0
    assert files_under(tls_server.home) == set()


async def test_plain_ftp_to_a_server_requiring_tls_is_refused(
    tls_server: FtpServerThread,
) -> None:
    store = FtpFileStore(server_of(tls_server.port), "/")

    with pytest.raises(RequestRefused, match=r"logging in .*: 5\d\d"):
        await store.get(KEY)


async def test_a_server_that_does_not_answer_is_unavailable(tmp_path: Path) -> None:
    with ftp_server(tmp_path / "home") as server:
        port = server.port
    store = FtpFileStore(server_of(port), "/")

    with pytest.raises(ExternalServiceUnavailable, match=r"connecting to 127\.0\.0\.1"):
        await store.get(KEY)


async def test_a_write_the_server_does_not_permit_is_refused_clearly(
    plain_server: FtpServerThread,
) -> None:
    store = FtpFileStore(server_of(plain_server.port, user=READER), "/")

    with pytest.raises(RequestRefused, match="Not enough privileges"):
        await store.put(KEY, JPEG, "image/jpeg")

    assert files_under(plain_server.home) == set()


async def test_the_ping_answers_with_the_login_taken(
    plain_store: FtpFileStore, plain_server: FtpServerThread
) -> None:
    await plain_store.ping()

    assert plain_server.faults.logins == 1
