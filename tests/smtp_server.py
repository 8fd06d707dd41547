"""A real SMTP server for the tests (aiosmtpd), on a free port of 127.0.0.1, in a thread.

``smtp_server`` takes messages in plain SMTP, with STARTTLS offered (and required), or with
implicit TLS, under a certificate of a CA made by ``tests.ftp_server.make_authority``; with
``users`` it requires a login, over TLS. Its mailbox can be told to refuse the next recipient
for good (550) or to be busy with the next messages (451).
"""

from __future__ import annotations

import email
import email.policy
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import attrs
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.ftp_server import Authority


@attrs.define
class Mailbox:
    """What the server took, and what it does wrong next; changed by the tests while it runs."""

    messages: list[bytes] = attrs.field(factory=list)
    envelopes: list[tuple[str, list[str]]] = attrs.field(factory=list)
    refusals: int = 0
    busy: int = 0

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if self.refusals:
            self.refusals -= 1
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.busy:
            self.busy -= 1
            return "451 4.3.0 busy, try again later"
        self.messages.append(envelope.original_content or envelope.content)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"

    def parsed(self) -> list[email.message.EmailMessage]:
        return [email.message_from_bytes(raw, policy=email.policy.default) for raw in self.messages]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def server_context(authority: Authority) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(authority.cert_file, authority.key_file)
    return context


@contextmanager
def smtp_server(
    *,
    tls: str = "none",
    authority: Authority | None = None,
    users: dict[str, str] | None = None,
) -> Iterator[tuple[int, Mailbox]]:
    """A server on a free port: ``tls`` is ``none``, ``starttls`` or ``implicit``."""
    mailbox = Mailbox()
    options: dict[str, Any] = {}
    if tls != "none":
        assert authority is not None
        context = server_context(authority)
        if tls == "starttls":
            options.update(tls_context=context, require_starttls=True)
        else:
            options.update(ssl_context=context)
    if users is not None:
        accounts = dict(users)

        def authenticate(
            server: Any, session: Any, envelope: Any, mechanism: str, data: Any
        ) -> AuthResult:
            ok = isinstance(data, LoginPassword) and (
                accounts.get(data.login.decode()) == data.password.decode()
            )
            return AuthResult(success=ok, handled=False)

        options.update(authenticator=authenticate, auth_required=True)
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield port, mailbox
    finally:
        controller.stop()
