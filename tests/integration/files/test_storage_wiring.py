"""The file store chosen by the settings: an FTP configuration checked at start, the FTP store
behind its resilience runner, and the store's state in ``/health/ready``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from adapters.files.ftp import FtpFileStore
from entrypoints.container import build_container
from entrypoints.settings import Settings, SettingsError, load_settings
from talia_core.identity.model import Role
from talia_core.shared.files import Download
from tests.api import open_api, settings_for_tests
from tests.contracts.files.file_store import JPEG, KEY
from tests.ftp_server import PASSWORD, USER, Authority, FtpServerThread, ftp_server


def ftp_settings(port: int, **storage: Any) -> Settings:
    values = {
        "provider": "ftp",
        "ftp_host": "127.0.0.1",
        "ftp_port": port,
        "ftp_user": USER,
        "ftp_password": PASSWORD,
        "ftp_root": "/talia/files",
        "ftp_timeout_seconds": 2.0,
    }
    return settings_for_tests("sqlite+aiosqlite:///:memory:", storage={**values, **storage})


def files_state(body: dict[str, Any]) -> dict[str, Any]:
    (found,) = [d for d in body["dependencies"] if d["name"] == "files"]
    return found


@pytest.mark.parametrize(
    ("storage", "named"),
    [
        ({"ftp_host": "files.example.com"}, "TALIA_STORAGE__FTP_USER, TALIA_STORAGE__FTP_PASSWORD"),
        ({"ftp_user": "talia", "ftp_password": "x"}, "TALIA_STORAGE__FTP_HOST"),
    ],
)
def test_an_incomplete_ftp_configuration_stops_start_up_naming_what_is_missing(
    storage: dict[str, str], named: str
) -> None:
    with pytest.raises(SettingsError, match=f"the ftp provider needs {named}"):
        load_settings(_env_file=None, storage={"provider": "ftp", **storage})


@pytest.mark.parametrize(
    "storage",
    [
        {"ftp_root": "relative/folder"},
        {"ftp_root": "/files/../etc"},
        {"ftp_host": "files.example.com\r\nDELE x"},
        {"ftp_ca_file": "/etc/hosts"},
        {"ftp_tls": True, "ftp_ca_file": "/no/such/ca.pem"},
    ],
)
def test_an_ftp_setting_that_cannot_be_right_stops_start_up(storage: dict[str, Any]) -> None:
    with pytest.raises(SettingsError, match="TALIA_STORAGE"):
        load_settings(_env_file=None, storage=storage)


async def test_the_ftp_store_is_chosen_by_settings_and_runs_through_its_runner(
    plain_server: FtpServerThread,
) -> None:
    container = build_container(ftp_settings(plain_server.port))
    files = container.gateways.files()

    await files.put(KEY, JPEG, "image/jpeg")

    assert await files.get(KEY) == Download(JPEG, "image/jpeg")
    assert (plain_server.home / "talia" / "files" / KEY).read_bytes() == JPEG
    assert "ftp" in container.gateways.breakers().snapshots()
    assert isinstance(container.gateways.ftp_files(), FtpFileStore)
    await container.gateways.ftp_files().close()


async def test_readiness_reports_the_ftp_store_up_then_down_without_going_unready(
    tmp_path: Path,
) -> None:
    with ftp_server(tmp_path / "home") as server:
        async with open_api(ftp_settings(server.port)) as api:
            up = await api.client.get("/health/ready")
            server.stop()
            await api.container.gateways.ftp_files().close()
            down = await api.client.get("/health/ready")

    assert up.status_code == 200, up.text
    assert files_state(up.json()) == {
        "name": "files",
        "status": "up",
        "critical": False,
        "detail": None,
    }
    assert down.status_code == 200, down.text
    assert files_state(down.json())["status"] == "down"


async def test_readiness_reports_an_ftps_store_whose_login_is_refused_as_down(
    tls_server: FtpServerThread, authority: Authority
) -> None:
    settings = ftp_settings(
        tls_server.port, ftp_tls=True, ftp_ca_file=str(authority.ca_file), ftp_password="wrong"
    )
    async with open_api(settings) as api:
        response = await api.client.get("/health/ready")

    assert files_state(response.json())["status"] == "down"


async def test_readiness_reports_an_ftps_store_up(
    tls_server: FtpServerThread, authority: Authority
) -> None:
    settings = ftp_settings(tls_server.port, ftp_tls=True, ftp_ca_file=str(authority.ca_file))
    async with open_api(settings) as api:
        response = await api.client.get("/health/ready")

    assert files_state(response.json())["status"] == "up"


async def test_readiness_reports_whether_the_local_directory_takes_files(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_bytes(b"not a directory")
    states = []
    for folder in (tmp_path / "media", tmp_path / "a-file" / "media"):
        settings = settings_for_tests(
            "sqlite+aiosqlite:///:memory:", storage={"local_dir": str(folder)}
        )
        async with open_api(settings) as api:
            states.append(files_state((await api.client.get("/health/ready")).json())["status"])

    assert states == ["up", "down"]
    assert list((tmp_path / "media").iterdir()) == []


async def test_a_document_uploaded_through_the_api_lies_on_the_ftp_server(
    plain_server: FtpServerThread,
) -> None:
    content = b"# Envios\n\nLas invitaciones impresas llegan a Lima en tres dias.\n"
    async with open_api(ftp_settings(plain_server.port), in_memory=True) as api:
        _, admin = await api.user(Role.ADMIN)
        response = await api.client.post(
            "/api/documents",
            files={"file": ("envios.md", content, "text/markdown")},
            data={"collection": "guia"},
            headers=admin,
        )
        assert response.status_code == 201, response.text
        document_id = response.json()["id"]

    folder = plain_server.home / "talia" / "files" / "documents" / document_id
    (stored,) = [path for path in folder.iterdir() if not path.name.startswith(".")]
    assert stored.read_bytes() == content
