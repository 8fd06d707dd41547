"""The sender contract over SMTP to a real server (aiosmtpd): plain, STARTTLS with a login,
and implicit TLS; and what only a mail server does: not answering, refusing a login, showing a
certificate of another CA, not offering STARTTLS."""

from __future__ import annotations

import email.message
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

from adapters.email.smtp import SmtpEmailSender, SmtpServer, SmtpTls
from adapters.resilience import BreakerBoard
from entrypoints.settings import Settings
from entrypoints.wiring.email import email_sender
from talia_core.shared.clock import SystemClock
from talia_core.shared.email import EmailRefused, EmailSender
from talia_core.shared.errors import ExternalServiceUnavailable
from tests.contracts.email.email_sender import (
    FROM,
    RESET,
    WELCOME,
    MimeEmailSenderContract,
    Received,
    RefusingEmailSenderContract,
    SenderHarness,
    read_mime,
    received,
)
from tests.fakeserver import refusing_port
from tests.ftp_server import Authority, make_authority
from tests.smtp_server import Mailbox, smtp_server

USER, PASSWORD = "talia", "s3cret-smtp-password"


@pytest.fixture(scope="module")
def authority(tmp_path_factory: pytest.TempPathFactory) -> Authority:
    return make_authority(tmp_path_factory.mktemp("smtp-ca"))


def sender_for(
    port: int,
    tls: SmtpTls,
    authority: Authority | None = None,
    *,
    username: str = "",
    password: str = "",
    timeout: float = 5.0,
) -> SmtpEmailSender:
    context = ssl.create_default_context(cafile=authority.ca_file) if authority else None
    server = SmtpServer(
        host="127.0.0.1",
        port=port,
        tls=tls,
        username=username,
        password=password,
        tls_context=context,
        timeout_seconds=timeout,
    )
    return SmtpEmailSender(server, sender=FROM, clock=SystemClock())


@attrs.frozen
class SmtpHarness:
    sender: EmailSender
    mailbox: Mailbox

    def go_down(self) -> None:
        self.mailbox.busy = 1_000

    def come_back(self) -> None:
        self.mailbox.busy = 0

    def refuse_next(self) -> None:
        self.mailbox.refusals += 1

    def mime(self) -> list[email.message.EmailMessage]:
        return self.mailbox.parsed()

    def received(self) -> list[Received]:
        return [read_mime(mime) for mime in self.mime()]


class SmtpEmailSenderTests(MimeEmailSenderContract, RefusingEmailSenderContract):
    @pytest.fixture(params=["plain", "starttls-with-login", "implicit-tls"])
    def harness(
        self, request: pytest.FixtureRequest, authority: Authority
    ) -> Iterator[SenderHarness]:
        if request.param == "plain":
            with smtp_server() as (port, mailbox):
                yield SmtpHarness(sender_for(port, SmtpTls.NONE), mailbox)
        elif request.param == "starttls-with-login":
            with smtp_server(tls="starttls", authority=authority, users={USER: PASSWORD}) as (
                port,
                mailbox,
            ):
                sender = sender_for(
                    port, SmtpTls.STARTTLS, authority, username=USER, password=PASSWORD
                )
                yield SmtpHarness(sender, mailbox)
        else:
            with smtp_server(tls="implicit", authority=authority) as (port, mailbox):
                yield SmtpHarness(sender_for(port, SmtpTls.IMPLICIT, authority), mailbox)


async def test_the_envelope_is_from_the_configured_address_to_the_recipient_alone() -> None:
    with smtp_server() as (port, mailbox):
        await sender_for(port, SmtpTls.NONE).send(WELCOME)

    assert mailbox.envelopes == [(FROM, [WELCOME.to])]


async def test_a_server_that_cannot_be_reached_is_unavailable() -> None:
    with refusing_port() as port, pytest.raises(ExternalServiceUnavailable, match="smtp"):
        await sender_for(port, SmtpTls.NONE).send(WELCOME)


async def test_a_server_that_never_greets_times_out_as_unavailable() -> None:
    with socket.socket() as listening:  # connections wait in its backlog, never answered
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        sender = sender_for(listening.getsockname()[1], SmtpTls.NONE, timeout=0.3)
        with pytest.raises(ExternalServiceUnavailable, match="smtp"):
            await sender.send(WELCOME)


async def test_a_refused_login_is_for_good(authority: Authority) -> None:
    with smtp_server(tls="starttls", authority=authority, users={USER: PASSWORD}) as (
        port,
        mailbox,
    ):
        sender = sender_for(port, SmtpTls.STARTTLS, authority, username=USER, password="wrong")
        with pytest.raises(EmailRefused, match="535"):
            await sender.send(WELCOME)

    assert mailbox.messages == []


async def test_a_certificate_of_another_authority_sends_nothing(
    authority: Authority, tmp_path: Path
) -> None:
    stranger = make_authority(tmp_path / "other-ca", name="Someone else's CA")
    with (
        smtp_server(tls="implicit", authority=stranger) as (port, mailbox),
        pytest.raises(ExternalServiceUnavailable, match="smtp"),
    ):
        await sender_for(port, SmtpTls.IMPLICIT, authority).send(WELCOME)

    assert mailbox.messages == []


async def test_starttls_is_required_when_configured_so_a_server_without_it_gets_nothing(
    authority: Authority,
) -> None:
    with (
        smtp_server() as (port, mailbox),
        pytest.raises(ExternalServiceUnavailable, match="smtp"),
    ):
        await sender_for(port, SmtpTls.STARTTLS, authority).send(WELCOME)

    assert mailbox.messages == []


async def test_the_wired_sender_goes_through_its_resilience_runner(authority: Authority) -> None:
    board = BreakerBoard()
    with smtp_server(tls="starttls", authority=authority, users={USER: PASSWORD}) as (
        port,
        mailbox,
    ):
        settings = Settings(
            _env_file=None,
            email={
                "backend": "smtp",
                "host": "127.0.0.1",
                "port": port,
                "tls": "starttls",
                "username": USER,
                "password": PASSWORD,
                "ca_file": str(authority.ca_file),
                "from_address": FROM,
            },
        )
        sender = email_sender(settings, board, SystemClock())
        await sender.send(RESET)

    assert [read_mime(mime) for mime in mailbox.parsed()] == [received(RESET)]
    assert list(board.snapshots()) == ["smtp"]
