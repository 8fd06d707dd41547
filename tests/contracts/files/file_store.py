"""The contract every ``FileStore`` passes: the local directory, the in-memory fake and the
FTP server (plain and FTPS).

Subclass ``FileStoreContract`` and provide two fixtures: ``store`` (a fresh, empty store)
and ``footprint``: a callable naming everything the store's medium holds (for a directory,
every file under the directory *around* its root, so a write that escaped the root shows).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable

import pytest

from talia_core.shared.errors import Conflict, Malformed, NotFound
from talia_core.shared.files import Download, FileStore

Footprint = Callable[[], set[str]]

KEY = "media/2026/11/0b9f2c4e-5d1a-4f7e-9a3b-2c8d6e1f0a7b.jpg"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) + b"\xff\xd9"

UNSAFE_KEYS = [
    "",
    "/",
    "/etc/passwd",
    "/media/x.jpg",
    "..",
    ".",
    "../escaped.jpg",
    "media/../../escaped.jpg",
    "media/..",
    "media/./x.jpg",
    "media//x.jpg",
    "media/",
    "media\\x.jpg",
    "..\\escaped.jpg",
    "C:/escaped.jpg",
    "media/.hidden",
    "media/x.jpg\x00.png",
    "media/x\n.jpg",
    "media/ x.jpg",
    "media/" + "x" * 201,
    "m/" * 600 + "x.jpg",
]


class FileStoreContract:
    async def test_a_file_reads_back_with_its_bytes_and_mime_type(self, store: FileStore) -> None:
        await store.put(KEY, JPEG, "image/jpeg")

        assert await store.get(KEY) == Download(content=JPEG, mime_type="image/jpeg")

    async def test_a_mime_type_is_kept_as_given_with_its_parameters(self, store: FileStore) -> None:
        key = "media/2026/11/voice.ogg"
        await store.put(key, b"OggS\x00voice", "audio/ogg; codecs=opus")

        assert (await store.get(key)).mime_type == "audio/ogg; codecs=opus"

    async def test_the_mime_type_does_not_follow_the_extension(self, store: FileStore) -> None:
        await store.put("media/notes.jpg", b"%PDF-1.7", "application/pdf")

        assert (await store.get("media/notes.jpg")).mime_type == "application/pdf"

    async def test_putting_a_key_again_replaces_its_content_and_mime_type(
        self, store: FileStore
    ) -> None:
        await store.put(KEY, JPEG, "image/jpeg")
        await store.put(KEY, b"GIF89a", "image/gif")

        assert await store.get(KEY) == Download(content=b"GIF89a", mime_type="image/gif")

    async def test_a_deleted_file_is_not_found_and_deleting_it_again_is_harmless(
        self, store: FileStore
    ) -> None:
        await store.put(KEY, JPEG, "image/jpeg")
        await store.delete(KEY)
        await store.delete(KEY)
        with pytest.raises(NotFound):
            await store.get(KEY)

    async def test_a_key_never_put_is_not_found(self, store: FileStore) -> None:
        await store.put(KEY, JPEG, "image/jpeg")

        with pytest.raises(NotFound):
            await store.get("media/2026/11/another.jpg")

    async def test_a_folder_of_keys_is_not_a_file(self, store: FileStore) -> None:
        await store.put(KEY, JPEG, "image/jpeg")

        with pytest.raises(NotFound):
            await store.get("media/2026")

    async def test_keys_differing_only_in_their_folder_are_different_files(
        self, store: FileStore
    ) -> None:
        await store.put("media/2026/10/x.jpg", b"october", "image/jpeg")
        await store.put("media/2026/11/x.jpg", b"november", "image/jpeg")

        assert (await store.get("media/2026/10/x.jpg")).content == b"october"
        assert (await store.get("media/2026/11/x.jpg")).content == b"november"

    @pytest.mark.parametrize("key", UNSAFE_KEYS)
    async def test_an_unsafe_key_is_refused_and_nothing_is_written(
        self, store: FileStore, footprint: Footprint, key: str
    ) -> None:
        await store.put(KEY, JPEG, "image/jpeg")
        before = footprint()

        with pytest.raises(Malformed):
            await store.put(key, b"escaped", "text/plain")
        with pytest.raises(Malformed):
            await store.get(key)

        assert footprint() == before

    @pytest.mark.parametrize(
        "mime_type", ["", "jpeg", "image/", "/jpeg", "image/jpeg\r\nX-Evil: 1", "imáge/jpeg"]
    )
    async def test_something_that_is_not_a_mime_type_is_refused(
        self, store: FileStore, footprint: Footprint, mime_type: str
    ) -> None:
        with pytest.raises(Malformed):
            await store.put(KEY, JPEG, mime_type)

        assert footprint() == set()

    async def test_a_key_cannot_be_both_a_file_and_a_folder_of_files(
        self, store: FileStore
    ) -> None:
        await store.put("media/a.jpg", b"a file", "image/jpeg")
        await store.put("docs/2026/x.pdf", b"in a folder", "application/pdf")

        with pytest.raises(Conflict):
            await store.put("media/a.jpg/b.jpg", b"below a file", "image/jpeg")
        with pytest.raises(Conflict):
            await store.put("docs/2026", b"over a folder", "application/pdf")

        assert (await store.get("media/a.jpg")).content == b"a file"
        assert (await store.get("docs/2026/x.pdf")).content == b"in a folder"

    async def test_every_byte_value_survives(self, store: FileStore) -> None:
        content = bytes(range(256)) * 16 + b"\r\n\n\r\x00\x1a"
        await store.put("media/bytes.bin", content, "application/octet-stream")

        assert (await store.get("media/bytes.bin")).content == content

    async def test_an_empty_file_is_a_file(self, store: FileStore) -> None:
        await store.put("media/empty.txt", b"", "text/plain")

        assert await store.get("media/empty.txt") == Download(b"", "text/plain")

    async def test_a_large_file_survives(self, store: FileStore) -> None:
        content = random.Random(7).randbytes(3 * 1024 * 1024 + 17)
        await store.put("media/video.mp4", content, "video/mp4")

        assert (await store.get("media/video.mp4")).content == content

    async def test_concurrent_puts_of_different_keys_all_land(self, store: FileStore) -> None:
        files = {f"media/2026/11/{n:03}.png": bytes([n]) * (1000 + n) for n in range(40)}

        await asyncio.gather(*(store.put(k, c, "image/png") for k, c in files.items()))

        for key, content in files.items():
            assert await store.get(key) == Download(content, "image/png")

    async def test_concurrent_puts_of_one_key_leave_one_of_them_whole(
        self, store: FileStore
    ) -> None:
        contents = [bytes([n]) * 256 * 1024 for n in range(8)]

        await asyncio.gather(*(store.put(KEY, c, "image/jpeg") for c in contents))

        assert (await store.get(KEY)).content in contents
