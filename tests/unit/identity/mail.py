"""Reading the links out of the mail the identity context sends, in the unit tests."""

from __future__ import annotations

import re

from adapters.memory.email import FakeEmailSender
from talia_core.shared.email import EmailMessage
from talia_core.shared.jobs import JobRunner

_LINK = re.compile(r"https://shop\.example/(verify|reset)#([A-Za-z0-9_-]+)")


def token_in(message: EmailMessage, kind: str) -> str:
    """The token of the one link of ``kind`` (``verify`` or ``reset``) in the message."""
    [(found, token)] = _LINK.findall(message.text)
    assert found == kind, message.text
    return str(token)


async def mail_sent(jobs: JobRunner, sender: FakeEmailSender) -> list[EmailMessage]:
    """Run the due mail jobs, and those they add (a reset request adds its mail), until none
    is due; the messages they sent."""
    before = len(sender.sent)
    while await jobs.run_due(50):
        pass
    return sender.sent[before:]
