"""A fake ``EmailSender`` for tests: it keeps what it sends.

``FakeEmailSender`` passes the ``EmailSender`` contract suite (``tests/contracts/email/``):

    sender = FakeEmailSender()
    sender.fail_next(2)   # the next two: ExternalServiceUnavailable (the server is down)
    sender.refuse_next()  # the next one: EmailRefused
    ...
    sender.sent           # every message taken, in order
"""

from __future__ import annotations

from talia_core.shared.email import EmailMessage, EmailRefused
from talia_core.shared.errors import ExternalServiceUnavailable

SERVICE = "fake-smtp"


class FakeEmailSender:
    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []
        self._failures = 0
        self._refusals = 0

    def fail_next(self, times: int = 1) -> None:
        self._failures += times

    def refuse_next(self, times: int = 1) -> None:
        self._refusals += times

    async def send(self, message: EmailMessage) -> None:
        if self._failures:
            self._failures -= 1
            raise ExternalServiceUnavailable(SERVICE, "unavailable (told to fail)")
        if self._refusals:
            self._refusals -= 1
            raise EmailRefused(SERVICE, "550 told to refuse")
        self.sent.append(message)
