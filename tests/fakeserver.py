"""A local HTTP server for standing in for a provider over real HTTP on loopback.

``LocalServer`` is a few lines of asyncio on a loopback address (a free port): it records
every request (``Recorded``) and answers each with a ``Reply``, either one it was told to give
next (``answer_next``: an error, a 503, silence...) or what the provider would answer, which a
subclass says in ``answer``. Each provider's server module keeps only its wire format.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.parser
import email.policy
import json
import socket
from collections import deque
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

import attrs


@attrs.frozen
class Recorded:
    """One request as the server read it; ``path`` without the query string."""

    method: str
    path: str
    query: str
    headers: dict[str, str]  # names in lower case
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return dict(self.form_pairs())

    def form_pairs(self) -> list[tuple[str, str]]:
        return parse_qsl(self.body.decode(), keep_blank_values=True, strict_parsing=True)

    def multipart(self) -> dict[str, Part]:
        """The parts of a ``multipart/form-data`` body by name; empty for any other body."""
        content_type = self.headers.get("content-type", "")
        if not content_type.startswith("multipart/form-data"):
            return {}
        head = f"Content-Type: {content_type}\r\n\r\n".encode()
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + self.body)
        parts: dict[str, Part] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            content = part.get_payload(decode=True)
            if isinstance(name, str) and isinstance(content, bytes):
                filename = part.get_filename()
                parts[name] = Part(content, part.get_content_type(), filename)
        return parts


@attrs.frozen
class Part:
    """One field of a multipart form: a file has a ``filename``."""

    content: bytes
    content_type: str
    filename: str | None = None

    @property
    def text(self) -> str:
        return self.content.decode()


@attrs.frozen
class Reply:
    status: int = 200
    body: bytes | dict[str, Any] = b""
    headers: dict[str, str] = attrs.field(factory=dict)
    stall: bool = False  # take the request and never answer
    declare_length: bool = True  # False: no Content-Length, the body ends when the socket does


class LocalServer:
    """One HTTP/1.1 server on a loopback address; ``answer`` says what it answers."""

    content_type: str | None = None  # sent with every reply that does not say its own
    keep_alive = False
    """Answer further requests on the same connection, as a provider's API does; the tests'
    servers close each connection after one answer."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.requests: list[Recorded] = []
        self.replies: deque[Reply] = deque()
        self.base_url = ""
        self.connections = 0  # how many the clients opened
        self._server: asyncio.Server | None = None
        self._release = asyncio.Event()

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._serve, self.host, 0)
        port = self._server.sockets[0].getsockname()[1]
        self.base_url = f"http://{self.host}:{port}"
        return self.base_url

    async def close(self) -> None:
        self._release.set()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def answer_next(self, reply: Reply) -> None:
        self.replies.append(reply)

    def answer(self, request: Recorded) -> Reply:
        raise NotImplementedError

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                try:
                    request = await self._read(reader)
                except (ValueError, asyncio.IncompleteReadError, ConnectionError):
                    return  # not a request: the client went away
                self.requests.append(request)
                reply = self.replies.popleft() if self.replies else self.answer(request)
                if reply.stall:
                    await self._release.wait()
                    return
                writer.write(self._head(reply) + _body(reply))
                await writer.drain()
                if not self._keeps(reply):
                    return
        except ConnectionError:
            return  # the client stopped reading (a download over its limit)
        finally:
            writer.close()

    def _head(self, reply: Reply) -> bytes:
        headers = {"Content-Type": self.content_type} if self.content_type else {}
        head = [f"HTTP/1.1 {reply.status} {_reason(reply.status)}"]
        if reply.declare_length:
            head.append(f"Content-Length: {len(_body(reply))}")
        head.append("Connection: keep-alive" if self._keeps(reply) else "Connection: close")
        head += [f"{name}: {value}" for name, value in (headers | reply.headers).items()]
        return ("\r\n".join(head) + "\r\n\r\n").encode()

    def _keeps(self, reply: Reply) -> bool:
        """A body without its length ends with the connection."""
        return self.keep_alive and reply.declare_length

    @staticmethod
    async def _read(reader: asyncio.StreamReader) -> Recorded:
        method, target, _ = (await reader.readline()).decode().split(" ", 2)
        path, _, query = target.partition("?")
        headers: dict[str, str] = {}
        while (line := (await reader.readline()).decode().rstrip("\r\n")) != "":
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        return Recorded(method, path, query, headers, body)


def _body(reply: Reply) -> bytes:
    return reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Status"


@contextlib.contextmanager
def refusing_port() -> Iterator[int]:
    """A loopback port bound but not listening: connecting to it is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]
