"""The agents' contact book: find, read, edit and merge the people who write."""

from __future__ import annotations

from talia_core.conversations.contacts import Contact
from talia_core.conversations.merging import absorb
from talia_core.conversations.ports import ConversationsUnitOfWork
from talia_core.shared.clock import Clock
from talia_core.shared.errors import RuleViolated
from talia_core.shared.pagination import Page, PageRequest
from talia_core.shared.ports import UnitOfWorkFactory


class ContactBook:
    def __init__(self, uow: UnitOfWorkFactory[ConversationsUnitOfWork], clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def list_contacts(self, page: PageRequest, *, text: str | None = None) -> Page[Contact]:
        async with self._uow(read_only=True) as uow:
            return await uow.contacts.find(page, text=text)

    async def contact(self, contact_id: str) -> Contact:
        async with self._uow(read_only=True) as uow:
            return await uow.contacts.get(contact_id)

    async def edit_contact(
        self, contact_id: str, *, name: str | None, email: str | None, notes: str | None
    ) -> Contact:
        async with self._uow() as uow:
            contact = await uow.contacts.get(contact_id)
            contact.edit(name=name, email=email, notes=notes, at=self._clock.now())
            await uow.contacts.update(contact)
            await uow.commit()
        return contact

    async def merge_contacts(self, keep_id: str, other_id: str) -> Contact:
        """The same person on two channels: one contact with both identities."""
        if keep_id == other_id:
            raise RuleViolated("a contact cannot be merged into itself", {"contact_id": "same"})
        async with self._uow() as uow:
            keep = await uow.contacts.get(keep_id)
            await absorb(uow, keep, other_id, self._clock.now())
            await uow.commit()
        return keep
