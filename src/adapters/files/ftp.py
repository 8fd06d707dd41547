"""Files on an FTP server (FTPS with explicit TLS when configured): a ``FileStore``.

The files lie as in the local store: a key is a path under the configured root, built only
from the key's checked segments (``adapters.files.key_segments``), so nothing a user sent
reaches a command unchecked; the mime type is kept in a sidecar ``.<name>.mime`` beside the
file. Content and sidecar are each uploaded to a hidden temporary name, checked and only
then renamed into place, so a reader sees the old file or the new one, never a part: the
size by ``SIZE``, then the SHA-256 by the server's ``HASH`` command (draft-bryan-ftpext-hash)
when its ``FEAT`` offers SHA-256, or else by reading the file back. A temporary file left by a
connection lost midway keeps its hidden name, which no key can reach.
"""

from __future__ import annotations

import hashlib
import mimetypes
import uuid
from pathlib import PurePosixPath

import aioftp

from adapters.files import checked_mime_type, key_segments
from adapters.files.ftp_connections import SERVICE, FtpConnections, FtpServer, refused, reply
from talia_core.shared.errors import (
    Conflict,
    ExternalServiceUnavailable,
    NotFound,
    RequestRefused,
    TaliaError,
)
from talia_core.shared.files import Download

UNKNOWN_TYPE = "application/octet-stream"
_BLOCK = 64 * 1024


class FtpFileStore:
    def __init__(self, server: FtpServer, root: str = "/", *, keep: int = 4) -> None:
        self._connections = FtpConnections(server, keep=keep)
        self._root = PurePosixPath(root)
        self._server_hashes: bool | None = None

    async def put(self, key: str, content: bytes, mime_type: str) -> None:
        path = remote_path(self._root, key)
        checked_mime_type(mime_type)

        async def write(client: aioftp.Client) -> None:
            await self._make_folder(client, key, path.parent)
            if await _kind(client, path) == "dir":
                raise _clash(key)
            await self._place(client, key, _sidecar(path), mime_type.encode("ascii"))
            await self._place(client, key, path, content)

        await self._connections.run(write, f"putting {key!r}")

    async def get(self, key: str) -> Download:
        path = remote_path(self._root, key)

        async def read(client: aioftp.Client) -> Download:
            content = await _read(client, path)
            if content is None:
                raise NotFound("file", key)
            mime = await _read(client, _sidecar(path))
            if mime is None:
                return Download(content, mimetypes.guess_type(path.name)[0] or UNKNOWN_TYPE)
            return Download(content, mime.decode("ascii", "replace").strip())

        return await self._connections.run(read, f"getting {key!r}")

    async def delete(self, key: str) -> None:
        path = remote_path(self._root, key)

        async def remove(client: aioftp.Client) -> None:
            await _remove(client, key, path)
            await _remove(client, key, _sidecar(path))

        await self._connections.run(remove, f"deleting {key!r}")

    async def ping(self) -> None:
        """A ``NOOP`` on a logged-in connection: the server answers and takes our login."""

        async def noop(client: aioftp.Client) -> None:
            await client.command("NOOP", "200")

        await self._connections.run(noop, "NOOP")

    async def close(self) -> None:
        await self._connections.close()

    async def _make_folder(self, client: aioftp.Client, key: str, folder: PurePosixPath) -> None:
        """Make ``folder`` and the folders above it that are missing, the root included."""
        missing: list[PurePosixPath] = []
        while folder != folder.parent:
            kind = await _kind(client, folder)
            if kind == "dir":
                break
            if kind is not None:
                raise _clash(key)
            missing.append(folder)
            folder = folder.parent
        for each in reversed(missing):
            try:
                await client.command(f"MKD {each}", "257")
            except aioftp.StatusCodeError as error:
                # Another upload may have made it meanwhile.
                if not refused(error) or await _kind(client, each) != "dir":
                    raise

    async def _place(
        self, client: aioftp.Client, key: str, path: PurePosixPath, content: bytes
    ) -> None:
        temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        try:
            async with client.upload_stream(temporary) as stream:
                await stream.write(content)
            await self._verify(client, key, temporary, content)
            try:
                await client.rename(temporary, path)
            except aioftp.StatusCodeError as error:
                if refused(error) and await _kind(client, path) == "dir":
                    raise _clash(key) from error
                raise
        except (aioftp.StatusCodeError, TaliaError):
            # The connection still answers: the temporary file is not left behind.
            await _forget(client, temporary)
            raise

    async def _verify(
        self, client: aioftp.Client, key: str, path: PurePosixPath, content: bytes
    ) -> None:
        _, info = await client.command(f"SIZE {path}", "213")
        size = info[0].strip()
        if size != str(len(content)):
            raise _damaged(key, f"{size} bytes arrived of {len(content)}")
        expected = hashlib.sha256(content).hexdigest()
        arrived = await self._server_sha256(client, path)
        if arrived is None:
            read_back = await _read(client, path)
            arrived = hashlib.sha256(read_back or b"").hexdigest()
        if arrived.lower() != expected:
            raise _damaged(key, "its SHA-256 differs from what was sent")

    async def _server_sha256(self, client: aioftp.Client, path: PurePosixPath) -> str | None:
        """The file's SHA-256 as the server computes it, or None if it offers no such thing."""
        if self._server_hashes is None:
            try:
                _, features = await client.command("FEAT", "211")
            except aioftp.StatusCodeError as error:
                if not refused(error):
                    raise
                features = []  # a server from before FEAT (RFC 2389) offers nothing more
            self._server_hashes = any(
                line.split()[:1] == ["HASH"] and "SHA-256" in line.upper() for line in features
            )
        if not self._server_hashes:
            return None
        # The algorithm is a setting of each connection.
        await client.command("OPTS HASH SHA-256", "200")
        _, info = await client.command(f"HASH {path}", "213")
        fields = info[0].split()
        if len(fields) < 3 or fields[0].upper() != "SHA-256":
            raise ExternalServiceUnavailable(SERVICE, f"an answer to HASH out of form: {info[0]}")
        return fields[2]


def remote_path(root: PurePosixPath, key: str) -> PurePosixPath:
    """Where a key's file lies under ``root``; ``Malformed`` for a key the app never makes."""
    return root.joinpath(*key_segments(key))


async def _kind(client: aioftp.Client, path: PurePosixPath) -> str | None:
    """``file``, ``dir`` (or another type the server names), None when nothing is there."""
    try:
        info = await client.stat(path)
    except aioftp.StatusCodeError as error:
        if refused(error):
            return None
        raise
    return str(info.get("type", "file"))


async def _read(client: aioftp.Client, path: PurePosixPath) -> bytes | None:
    """The file's bytes, None when the server has no such file."""
    try:
        async with client.download_stream(path) as stream:
            blocks = [block async for block in stream.iter_by_block(_BLOCK)]
    except aioftp.StatusCodeError as error:
        if refused(error) and await _kind(client, path) != "file":
            return None
        raise
    return b"".join(blocks)


async def _remove(client: aioftp.Client, key: str, path: PurePosixPath) -> None:
    try:
        await client.remove_file(path)
    except aioftp.StatusCodeError as error:
        if not refused(error):
            raise
        kind = await _kind(client, path)
        if kind == "file":
            raise RequestRefused(SERVICE, f"deleting {key!r}: {reply(error)}") from error
        if kind is not None:
            raise NotFound("file", key) from error


async def _forget(client: aioftp.Client, temporary: PurePosixPath) -> None:
    """Remove a temporary file, if the connection still allows it."""
    try:
        await client.remove_file(temporary)
    except aioftp.StatusCodeError:  # it was never made: nothing to remove
        return


def _sidecar(path: PurePosixPath) -> PurePosixPath:
    return path.with_name(f".{path.name}.mime")


def _clash(key: str) -> Conflict:
    return Conflict(f"file key {key!r} clashes with the folder of another key")


def _damaged(key: str, what: str) -> ExternalServiceUnavailable:
    return ExternalServiceUnavailable(SERVICE, f"the upload of {key!r} arrived damaged: {what}")
