"""The MIME form of a message, as every sender writes it."""

from __future__ import annotations

import email.message
import email.utils
from datetime import datetime

from talia_core.shared.email import EmailMessage


def mime_message(message: EmailMessage, *, sender: str, at: datetime) -> email.message.EmailMessage:
    """Plain UTF-8 text, with a Date and a Message-ID of the sender's domain."""
    mime = email.message.EmailMessage()
    mime["From"] = sender
    mime["To"] = message.to
    mime["Subject"] = message.subject
    mime["Date"] = email.utils.format_datetime(at)
    mime["Message-ID"] = email.utils.make_msgid(domain=sender.rpartition("@")[2] or None)
    mime.set_content(message.text)
    return mime
