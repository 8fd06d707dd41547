"""``message.received``: the event other contexts react to when a contact writes or speaks."""

from __future__ import annotations

from datetime import datetime

from talia_core.conversations.contacts import Contact
from talia_core.conversations.messages import Message
from talia_core.shared.events import DomainEvent

MESSAGE_RECEIVED = "message.received"


def message_received(contact: Contact, message: Message, at: datetime) -> DomainEvent:
    """The event of ``message``, stored from ``contact`` (the leads open or touch theirs)."""
    return DomainEvent(
        MESSAGE_RECEIVED,
        at,
        {
            "message_id": message.id,
            "conversation_id": message.conversation_id,
            "contact_id": contact.id,
            "channel": message.channel.value,
            "received_at": message.created_at.isoformat(),
            "text": message.text,
        },
    )
