"""Merging one contact into another: a sender that links two, or an agent's decision."""

from __future__ import annotations

from datetime import datetime

from talia_core.conversations.contacts import Contact
from talia_core.conversations.events import Sender
from talia_core.conversations.ports import ConversationsUnitOfWork


async def absorb(uow: ConversationsUnitOfWork, keep: Contact, other_id: str, now: datetime) -> None:
    """``keep`` takes the other contact's identities, details and conversations; the other
    contact is removed."""
    other = await uow.contacts.get(other_id)
    await uow.conversations.move_contact(other.id, keep.id)
    await uow.contacts.remove(other.id)
    keep.learn(Sender(tuple(other.identities), other.name, other.phone), now)
    keep.email = keep.email or other.email
    keep.notes = keep.notes or other.notes
    await uow.contacts.update(keep)
