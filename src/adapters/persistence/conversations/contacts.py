"""Contacts and their channel identities."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from adapters.persistence.connection import Transaction
from adapters.persistence.conversations.tables import (
    contact_identities,
    contacts,
    contacts_matching,
)
from adapters.persistence.prepared import key, keyed, locking
from talia_core.conversations.contacts import Contact
from talia_core.conversations.vocabulary import ChannelIdentity, IdentityKind
from talia_core.shared.errors import NotFound
from talia_core.shared.pagination import Page, PageRequest


def _contact_values(contact: Contact) -> dict[str, Any]:
    """The columns a contact's life changes (see ``Contact.learn`` and ``edit``)."""
    return {
        "name": contact.name,
        "phone": contact.phone,
        "email": contact.email,
        "notes": contact.notes,
        "updated_at": contact.updated_at,
    }


def _bare_contact(row: sa.RowMapping) -> Contact:
    """The contact a row holds, before its identities are read."""
    return Contact(
        id=row["id"],
        name=row["name"],
        identities=[],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        phone=row["phone"],
        email=row["email"],
        notes=row["notes"],
    )


def _identity_rows(contact: Contact) -> list[dict[str, Any]]:
    return [
        {
            "kind": identity.kind.value,
            "value": identity.value,
            "contact_id": contact.id,
            "position": position,
        }
        for position, identity in enumerate(contact.identities)
    ]


_INSERT = contacts.insert()
_GET = locking(contacts.select().where(contacts.c.id == key(contacts.c.id)))
_UPDATE = contacts.update().where(contacts.c.id == key(contacts.c.id))
_IDENTITIES_OF = (
    sa.select(contact_identities.c.kind, contact_identities.c.value)
    .where(contact_identities.c.contact_id == key(contact_identities.c.contact_id))
    .order_by(contact_identities.c.position)
)
_IDENTITIES_OF_ALL = (
    contact_identities.select()
    .where(contact_identities.c.contact_id.in_(sa.bindparam("key_contact_ids", expanding=True)))
    .order_by(contact_identities.c.contact_id, contact_identities.c.position)
)


@functools.cache
def _holding(count: int) -> sa.Select[Any]:
    """The contacts holding any of ``count`` identities (``key_kind_<i>``, ``key_value_<i>``)."""
    holders = sa.select(contact_identities.c.contact_id).where(
        sa.or_(
            *(
                sa.and_(
                    contact_identities.c.kind == sa.bindparam(f"key_kind_{i}"),
                    contact_identities.c.value == sa.bindparam(f"key_value_{i}"),
                )
                for i in range(count)
            )
        )
    )
    return (
        contacts.select()
        .where(contacts.c.id.in_(holders))
        .order_by(contacts.c.created_at, contacts.c.id)
    )


class SqlAlchemyContactRepository:
    def __init__(self, tx: Transaction, *, lock: bool = False) -> None:
        self._tx = tx
        self._lock = lock

    async def add(self, contact: Contact) -> None:
        row = {"id": contact.id, "created_at": contact.created_at, **_contact_values(contact)}
        await self._tx.execute(_INSERT, row)
        await self._insert_identities(contact)

    async def get(self, contact_id: str) -> Contact:
        row = await self._tx.one_or_none(_GET[self._lock], keyed(id=contact_id))
        if row is None:
            raise NotFound("contact", contact_id)
        contact = _bare_contact(row._mapping)
        await self._complete([contact])
        return contact

    async def update(self, contact: Contact) -> None:
        await self._tx.execute(_UPDATE, {**keyed(id=contact.id), **_contact_values(contact)})
        stored = await self._tx.execute(_IDENTITIES_OF, keyed(contact_id=contact.id))
        current = [(i.kind.value, i.value) for i in contact.identities]
        if [tuple(row) for row in stored] != current:
            await self._tx.execute(
                contact_identities.delete().where(contact_identities.c.contact_id == contact.id)
            )
            await self._insert_identities(contact)

    async def remove(self, contact_id: str) -> None:
        """Its identities go with it (``ON DELETE CASCADE``)."""
        result = await self._tx.execute(contacts.delete().where(contacts.c.id == contact_id))
        if result.rowcount == 0:
            raise NotFound("contact", contact_id)

    async def by_identities(self, identities: Sequence[ChannelIdentity]) -> list[Contact]:
        if not identities:
            return []
        held: dict[str, str] = {}
        for i, identity in enumerate(identities):
            held[f"key_kind_{i}"], held[f"key_value_{i}"] = identity.kind.value, identity.value
        holding = await self._tx.execute(_holding(len(identities)), held)
        found = [_bare_contact(row) for row in holding.mappings()]
        await self._complete(found)
        return found

    async def find(self, page: PageRequest, *, text: str | None) -> Page[Contact]:
        query = contacts.select()
        if text:
            query = query.where(contacts_matching(text))
        order = [contacts.c.updated_at.desc(), contacts.c.id.desc()]
        found = await self._tx.page(query, page, order, _bare_contact)
        await self._complete(found.items)
        return found

    async def _insert_identities(self, contact: Contact) -> None:
        if contact.identities:
            await self._tx.execute(contact_identities.insert(), _identity_rows(contact))

    async def _complete(self, found: Sequence[Contact]) -> None:
        """Read the identities of ``found``, in their order: one query."""
        if not found:
            return
        by_id = {contact.id: contact for contact in found}
        held = await self._tx.execute(_IDENTITIES_OF_ALL, {"key_contact_ids": list(by_id)})
        for row in held.mappings():
            identity = ChannelIdentity(IdentityKind(row["kind"]), row["value"])
            by_id[row["contact_id"]].identities.append(identity)
