"""The contract every ``EmailSender`` passes: the fake, the directory of ``.eml`` files, and
SMTP against a local aiosmtpd server.

How to add a sender: write a harness (any object with the attributes and methods of
``SenderHarness``) over your adapter and what receives its messages, then subclass
``EmailSenderContract`` in a class whose name ends in ``Tests`` with a ``harness`` fixture.
A sender that writes MIME (a file, a mail server) subclasses ``MimeEmailSenderContract`` with
a ``MimeSenderHarness``; one whose receiver can refuse a message for good, also
``RefusingEmailSenderContract``. ``tests/unit/email/test_email_senders.py`` and
``tests/integration/email/test_smtp_email_sender.py`` are the examples.
"""

from __future__ import annotations

import email.message
import email.utils
from typing import Protocol

import attrs
import pytest

from talia_core.shared.email import EmailMessage, EmailRefused, EmailSender
from talia_core.shared.errors import ExternalServiceUnavailable

FROM = "talia@tienda.example"
WELCOME = EmailMessage(
    to="maria.jose@example.com",
    subject="Confirma tu correo, María José 💍",
    text="Hola, María José Ñúñez:\n\nAbre este enlace:\n\nhttps://tienda.example/v?token=abc\n",
)
RESET = EmailMessage(to="luis@example.org", subject="Cambia tu contraseña", text="Otro mensaje.")


@attrs.frozen
class Received:
    to: str
    subject: str
    text: str


def received(message: EmailMessage) -> Received:
    return Received(message.to, message.subject, message.text)


def read_mime(mime: email.message.EmailMessage) -> Received:
    """What a MIME message says, its body without the line end MIME closes it with."""
    body = str(mime.get_content()).replace("\r\n", "\n").removesuffix("\n")
    return Received(str(mime["To"]), str(mime["Subject"]), body)


class SenderHarness(Protocol):
    @property
    def sender(self) -> EmailSender:
        """The sender under test, pointed at what the harness reads; From is ``FROM``."""
        ...

    def go_down(self) -> None:
        """Make the receiver unable to take messages until ``come_back``."""
        ...

    def come_back(self) -> None: ...

    def received(self) -> list[Received]:
        """Every message taken, in order, as the receiver read it."""
        ...


class MimeSenderHarness(SenderHarness, Protocol):
    def mime(self) -> list[email.message.EmailMessage]:
        """Every message taken, in order, parsed from the bytes the receiver got."""
        ...


class RefusingSenderHarness(SenderHarness, Protocol):
    def refuse_next(self) -> None:
        """Make the receiver refuse the next message for good."""
        ...


class EmailSenderContract:
    @pytest.mark.parametrize("message", [WELCOME, RESET], ids=["accents", "plain"])
    async def test_a_message_reaches_its_receiver_whole(
        self, harness: SenderHarness, message: EmailMessage
    ) -> None:
        await harness.sender.send(message)

        assert harness.received() == [received(message)]

    async def test_messages_arrive_in_the_order_they_were_sent(
        self, harness: SenderHarness
    ) -> None:
        await harness.sender.send(WELCOME)
        await harness.sender.send(RESET)

        assert harness.received() == [received(WELCOME), received(RESET)]

    async def test_a_receiver_that_is_down_is_unavailable_and_takes_the_next_once_back(
        self, harness: SenderHarness
    ) -> None:
        harness.go_down()
        with pytest.raises(ExternalServiceUnavailable):
            await harness.sender.send(WELCOME)
        harness.come_back()
        await harness.sender.send(RESET)

        assert harness.received() == [received(RESET)]


class MimeEmailSenderContract(EmailSenderContract):
    async def test_a_message_is_plain_utf8_text_from_the_configured_address(
        self, harness: MimeSenderHarness
    ) -> None:
        await harness.sender.send(WELCOME)

        [mime] = harness.mime()
        assert (mime["From"], mime["To"], mime["Subject"]) == (FROM, WELCOME.to, WELCOME.subject)
        assert mime.get_content_type() == "text/plain"
        assert mime.get_content_charset() == "utf-8"
        assert email.utils.parsedate_to_datetime(mime["Date"]).tzinfo is not None
        assert mime["Message-ID"].endswith("@tienda.example>")

    async def test_each_message_has_its_own_id(self, harness: MimeSenderHarness) -> None:
        await harness.sender.send(WELCOME)
        await harness.sender.send(WELCOME)

        first, second = harness.mime()
        assert first["Message-ID"] != second["Message-ID"]


class RefusingEmailSenderContract(EmailSenderContract):
    async def test_a_refusal_is_for_good_and_the_next_message_goes_through(
        self, harness: RefusingSenderHarness
    ) -> None:
        harness.refuse_next()
        with pytest.raises(EmailRefused):
            await harness.sender.send(WELCOME)
        await harness.sender.send(RESET)

        assert harness.received() == [received(RESET)]
