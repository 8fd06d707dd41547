"""Sending e-mail: the ``EmailSender`` port and the message it sends.

Identity mails verification links and password resets; other contexts may mail their own
people later, so the port lives in the shared kernel. A message is plain text, addressed to
one person; the sender adds the deployment's From address.
"""

from __future__ import annotations

from typing import Protocol

import attrs

from talia_core.shared.errors import RuleViolated
from talia_core.shared.jobs import PermanentFailure
from talia_core.shared.text import email_address, required_text

MAX_SUBJECT_LENGTH = 200
MAX_BODY_LENGTH = 20_000


def _subject(value: str) -> str:
    """One line: a line break in a header would start another header."""
    if "\n" in value or "\r" in value:
        raise RuleViolated("subject must be one line", {"subject": "line break"})
    return required_text("subject", value, MAX_SUBJECT_LENGTH)


def _body(value: str) -> str:
    return required_text("text", value, MAX_BODY_LENGTH)


def _to(value: str) -> str:
    return email_address("to", value)


@attrs.frozen
class EmailMessage:
    to: str = attrs.field(converter=_to)
    subject: str = attrs.field(converter=_subject)
    text: str = attrs.field(converter=_body, repr=False)


class EmailRefused(PermanentFailure):
    """The mail server refused the message for good (an address it will not deliver to):
    sending it again would be refused again, so its job is left dead."""

    def __init__(self, server: str, detail: str) -> None:
        super().__init__(f"{server} refused the message: {detail}")
        self.server = server


class EmailSender(Protocol):
    async def send(self, message: EmailMessage) -> None:
        """Hand the message over for delivery. ``EmailRefused`` when the server refuses it
        for good; ``ExternalServiceUnavailable`` when trying again later may succeed (the
        server is down, slow, or answered a temporary 4xx)."""
        ...
