"""Conversations: one open per contact and channel."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from adapters.persistence.connection import Transaction
from adapters.persistence.conversations.tables import contacts, contacts_matching, conversations
from adapters.persistence.mapping import as_row, from_row
from adapters.persistence.prepared import key, keyed, locking
from talia_core.conversations.conversation import Conversation
from talia_core.conversations.ports import ConversationFilter
from talia_core.conversations.vocabulary import Channel, ConversationStatus
from talia_core.shared.errors import NotFound
from talia_core.shared.pagination import Page, PageRequest


def _conversation(row: sa.RowMapping) -> Conversation:
    return from_row(Conversation, row)


def _conversation_state(conversation: Conversation) -> dict[str, Any]:
    """The columns a conversation's life changes; its contact changes by ``move_contact``."""
    return {
        "status": conversation.status.value,
        "assignee_id": conversation.assignee_id,
        "last_activity_at": conversation.last_activity_at,
        "last_inbound_at": conversation.last_inbound_at,
        "unread_count": conversation.unread_count,
        "closed_at": conversation.closed_at,
        "assistant": conversation.assistant,
    }


_INSERT = conversations.insert()
_GET = locking(conversations.select().where(conversations.c.id == key(conversations.c.id)))
_UPDATE = conversations.update().where(conversations.c.id == key(conversations.c.id))


def _open_for(thread: sa.ColumnElement[bool]) -> dict[bool, sa.Select[Any]]:
    return locking(
        conversations.select()
        .where(
            conversations.c.contact_id == key(conversations.c.contact_id),
            conversations.c.channel == key(conversations.c.channel),
            conversations.c.status != ConversationStatus.CLOSED.value,
            thread,
        )
        .order_by(conversations.c.created_at.desc(), conversations.c.id.desc())
        .limit(1)
    )


# A channel with no threads (WhatsApp) and one with (Chatwoot, the web chat).
_OPEN_FOR = _open_for(conversations.c.thread.is_(None))
_OPEN_FOR_THREAD = _open_for(conversations.c.thread == key(conversations.c.thread))


class SqlAlchemyConversationRepository:
    def __init__(self, tx: Transaction, *, lock: bool = False) -> None:
        self._tx = tx
        self._lock = lock

    async def add(self, conversation: Conversation) -> None:
        await self._tx.execute(_INSERT, as_row(conversation))

    async def get(self, conversation_id: str) -> Conversation:
        row = await self._tx.one_or_none(_GET[self._lock], keyed(id=conversation_id))
        if row is None:
            raise NotFound("conversation", conversation_id)
        return _conversation(row._mapping)

    async def update(self, conversation: Conversation) -> None:
        values = _conversation_state(conversation)
        await self._tx.execute(_UPDATE, {**keyed(id=conversation.id), **values})

    async def open_for(
        self, contact_id: str, channel: Channel, thread: str | None
    ) -> Conversation | None:
        query = _OPEN_FOR if thread is None else _OPEN_FOR_THREAD
        found = keyed(contact_id=contact_id, channel=channel.value, thread=thread)
        row = await self._tx.one_or_none(query[self._lock], found)
        return None if row is None else _conversation(row._mapping)

    async def by_thread(self, channel: Channel, thread: str) -> Conversation | None:
        query = (
            conversations.select()
            .where(conversations.c.channel == channel.value, conversations.c.thread == thread)
            .order_by(conversations.c.created_at.desc(), conversations.c.id.desc())
            .limit(1)
        )
        row = await self._tx.one_or_none(query)
        return None if row is None else _conversation(row._mapping)

    async def move_contact(self, from_contact: str, to_contact: str) -> None:
        await self._tx.execute(
            conversations.update()
            .where(conversations.c.contact_id == from_contact)
            .values(contact_id=to_contact)
        )

    async def find(self, page: PageRequest, criteria: ConversationFilter) -> Page[Conversation]:
        query = conversations.select()
        if criteria.status is not None:
            query = query.where(conversations.c.status == criteria.status.value)
        if criteria.channel is not None:
            query = query.where(conversations.c.channel == criteria.channel.value)
        if criteria.assignee_id is not None:
            query = query.where(conversations.c.assignee_id == criteria.assignee_id)
        if criteria.contact_id is not None:
            query = query.where(conversations.c.contact_id == criteria.contact_id)
        if criteria.text:
            matching = sa.select(contacts.c.id).where(contacts_matching(criteria.text))
            query = query.where(conversations.c.contact_id.in_(matching))
        order = [conversations.c.last_activity_at.desc(), conversations.c.id.desc()]
        return await self._tx.page(query, page, order, _conversation)
