"""Connections to an FTP server for ``FtpFileStore``: opened, logged in, kept, translated.

A few logged-in connections are kept between calls (a fresh one costs a TCP handshake, a
login and, with TLS, a TLS handshake on every call). A kept connection the server has since
dropped (or is dropping: 421) fails its first command; the work is then run once more on a
fresh connection, so a server's idle timeout is never seen by the caller. A connection whose
work failed in any other way than a clear answer (a timeout, a cancellation, a reply out of
step) is closed, never kept.
"""

from __future__ import annotations

import ssl
from collections.abc import Awaitable, Callable
from typing import TypeVar

import aioftp
import attrs

from talia_core.shared.errors import ExternalServiceUnavailable, RequestRefused, TaliaError

SERVICE = "ftp"
T = TypeVar("T")

# What a connection the server (or the network) closed raises on its next command.
_DROPPED = (ConnectionError, EOFError, ssl.SSLEOFError, ssl.SSLZeroReturnError)


@attrs.frozen
class FtpServer:
    """Where the files are and how to log in; ``tls`` (explicit TLS) checks the server's
    certificate and host name against its CAs."""

    host: str
    port: int
    user: str
    password: str = attrs.field(repr=False)
    tls: ssl.SSLContext | None
    timeout_seconds: float


def tls_context(ca_file: str | None) -> ssl.SSLContext:
    """Certificates checked against ``ca_file`` (PEM), or the system's CAs."""
    return ssl.create_default_context(cafile=ca_file or None)


def refused(error: aioftp.StatusCodeError) -> bool:
    """A permanent refusal (5xx): the same command would be refused again."""
    return any(code.startswith("5") for code in error.received_codes)


def reply(error: aioftp.StatusCodeError) -> str:
    codes = "/".join(str(code) for code in error.received_codes)
    text = " ".join(line.strip() for line in error.info)[:200]
    return f"{codes} {text}".strip()


class FtpConnections:
    def __init__(self, server: FtpServer, *, keep: int = 4) -> None:
        self._server = server
        self._keep = keep
        self._idle: list[aioftp.Client] = []
        self._closed = False

    async def run(self, work: Callable[[aioftp.Client], Awaitable[T]], what: str) -> T:
        """``work`` on a logged-in connection; errors of the server or the network as core
        errors (``ExternalServiceUnavailable`` for what may pass, ``RequestRefused`` for what
        will not)."""
        kept = self._idle.pop() if self._idle else None
        if kept is not None:
            try:
                return await self._on(kept, work, what)
            except ExternalServiceUnavailable as error:
                if not _dropped(error.__cause__):
                    raise
        return await self._on(await self._open(), work, what)

    async def close(self) -> None:
        """Close the kept connections; those in use are closed as their work ends."""
        self._closed = True
        idle, self._idle = self._idle, []
        for client in idle:
            client.close()

    async def _on(
        self, client: aioftp.Client, work: Callable[[aioftp.Client], Awaitable[T]], what: str
    ) -> T:
        try:
            result = await work(client)
        except TaliaError:
            self._release(client)
            raise
        except BaseException as error:
            client.close()
            mapped = translated(error, what)
            if mapped is error:
                raise
            raise mapped from error
        self._release(client)
        return result

    def _release(self, client: aioftp.Client) -> None:
        if not self._closed and len(self._idle) < self._keep:
            self._idle.append(client)
        else:
            client.close()

    async def _open(self) -> aioftp.Client:
        server = self._server
        client = aioftp.Client(
            socket_timeout=server.timeout_seconds,
            connection_timeout=server.timeout_seconds,
            path_timeout=server.timeout_seconds,
        )
        step = f"connecting to {server.host}:{server.port}"
        try:
            await client.connect(server.host, server.port)
            if server.tls is not None:
                step = f"starting TLS with {server.host}:{server.port}"
                await client.upgrade_to_tls(server.tls)
            step = f"logging in to {server.host}:{server.port} as {server.user!r}"
            await client.login(server.user, server.password)
        except BaseException as error:
            client.close()
            mapped = translated(error, step)
            if mapped is error:
                raise
            raise mapped from error
        return client


def _dropped(error: BaseException | None) -> bool:
    """The connection was closed, or is being closed (421: the server's idle timeout)."""
    if isinstance(error, aioftp.StatusCodeError):
        return any(code == "421" for code in error.received_codes)
    return isinstance(error, _DROPPED)


def translated(error: BaseException, what: str) -> BaseException:
    """The core error for what went wrong while doing ``what``; anything else as it is."""
    if isinstance(error, ssl.SSLCertVerificationError):
        return RequestRefused(SERVICE, f"{what}: the server's certificate is not trusted: {error}")
    if isinstance(error, aioftp.StatusCodeError):
        if refused(error):
            return RequestRefused(SERVICE, f"{what}: {reply(error)}")
        return ExternalServiceUnavailable(SERVICE, f"{what}: {reply(error)}")
    if isinstance(error, TimeoutError):
        return ExternalServiceUnavailable(SERVICE, f"{what}: no answer in time")
    if isinstance(error, (*_DROPPED, OSError)):
        return ExternalServiceUnavailable(
            SERVICE, f"{what}: {type(error).__name__} {error}".strip()
        )
    return error
