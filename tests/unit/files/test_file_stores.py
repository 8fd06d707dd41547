"""The file store contract on the local directory and the in-memory fake, and what only the
local directory does: its files on disk, sidecars, temporary files and hand-copied files."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.files.local import LocalFileStore
from adapters.memory.files import InMemoryFileStore
from talia_core.shared.errors import Malformed
from talia_core.shared.files import Download
from tests.contracts.files.file_store import JPEG, KEY, FileStoreContract, Footprint


def files_under(directory: Path) -> set[str]:
    return {str(p.relative_to(directory)) for p in directory.rglob("*") if p.is_file()}


class LocalFileStoreTests(FileStoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> LocalFileStore:
        return LocalFileStore(tmp_path / "files")

    @pytest.fixture
    def footprint(self, tmp_path: Path) -> Footprint:
        return lambda: files_under(tmp_path)


class InMemoryFileStoreTests(FileStoreContract):
    @pytest.fixture
    def store(self) -> InMemoryFileStore:
        return InMemoryFileStore()

    @pytest.fixture
    def footprint(self, store: InMemoryFileStore) -> Footprint:
        return lambda: set(store.keys())


async def test_a_local_file_is_its_plain_bytes_at_its_key_with_the_type_beside_it(
    tmp_path: Path,
) -> None:
    store = LocalFileStore(tmp_path / "data" / "files")

    await store.put(KEY, JPEG, "image/jpeg")

    path = tmp_path / "data" / "files" / "media" / "2026" / "11" / Path(KEY).name
    assert path.read_bytes() == JPEG
    assert path.with_name(f".{path.name}.mime").read_text() == "image/jpeg"


async def test_no_temporary_file_is_left_behind(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path)

    await store.put(KEY, JPEG, "image/jpeg")
    await store.put(KEY, b"again", "image/png")

    name = Path(KEY).name
    assert files_under(tmp_path) == {KEY, str(Path(KEY).with_name(f".{name}.mime"))}


@pytest.mark.parametrize(
    ("name", "mime_type"),
    [("photo.jpg", "image/jpeg"), ("menu.pdf", "application/pdf"), ("blob", None)],
)
async def test_a_file_copied_in_by_hand_is_read_with_the_type_its_extension_suggests(
    tmp_path: Path, name: str, mime_type: str | None
) -> None:
    (tmp_path / "uploads").mkdir()
    (tmp_path / "uploads" / name).write_bytes(b"by hand")

    download = await LocalFileStore(tmp_path).get(f"uploads/{name}")

    assert download == Download(b"by hand", mime_type or "application/octet-stream")


async def test_a_sidecar_cannot_be_read_as_a_file(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path)
    await store.put("media/x.jpg", JPEG, "image/jpeg")

    with pytest.raises(Malformed):
        await store.get("media/.x.jpg.mime")


async def test_two_stores_on_one_directory_see_each_others_files(tmp_path: Path) -> None:
    await LocalFileStore(tmp_path).put(KEY, JPEG, "image/jpeg")

    assert await LocalFileStore(tmp_path).get(KEY) == Download(JPEG, "image/jpeg")
