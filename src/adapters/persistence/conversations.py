"""Tables, row mappers and repositories of the conversations context, and the inbox table.

Uniqueness is the database's. A channel identity is the primary key of
``contact_identities``: adding or updating a contact with an identity another contact
holds is a ``Conflict``. A message's provider id is unique per channel (NULLs, messages not
yet sent, never collide): ``MessageRepository.add`` inserts and does nothing on a
duplicate (``ON CONFLICT DO NOTHING``). MySQL and MariaDB take an upsert that changes
nothing instead (``INSERT IGNORE`` would hide every other error); since their connections
count a row found as a row changed (``CLIENT_FOUND_ROWS``), the message asks whether the
row with its own id is the one stored.

Locks. In a writing unit of work the rows read to be changed are locked (``FOR UPDATE``)
until the transaction ends: a contact by ``get`` (not its identities), a conversation by
``get`` and ``open_for``, a message by ``get`` and ``by_external_id``. SQLite, which
serialises writers anyway, ignores the clause; reading units lock nothing.

Text search is a case-insensitive substring match over a contact's name, phone, e-mail and
identity values; a conversation matches when its contact does (message text is not
searched: it would read every message). Case folding is the database's: SQLite folds ASCII
letters only, and MySQL's and MariaDB's default collations also ignore accents.

Identity values, provider ids, threads and inbox keys compare byte for byte on MySQL and
MariaDB too, as on the other databases (their default collations ignore case and accents).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite

from adapters.persistence.connection import Transaction
from adapters.persistence.mapping import as_row, from_row
from adapters.persistence.metadata import UtcDateTime, id_column, metadata
from talia_core.conversations.model import (
    Author,
    Channel,
    ChannelIdentity,
    Contact,
    Conversation,
    ConversationStatus,
    DeliveryStatus,
    Direction,
    IdentityKind,
    Location,
    Media,
    Message,
    MessageType,
    Template,
)
from talia_core.conversations.ports import ConversationFilter
from talia_core.shared.errors import NotFound
from talia_core.shared.pagination import Page, PageRequest


def _exact_string(length: int) -> sa.types.TypeEngine[str]:
    """A string compared byte for byte on every dialect."""
    return sa.String(length).with_variant(
        mysql.VARCHAR(length, collation="utf8mb4_bin"), "mysql", "mariadb"
    )


contacts = sa.Table(
    "contacts",
    metadata,
    id_column(primary_key=True),
    sa.Column("name", sa.String(200)),
    sa.Column("phone", sa.String(64)),
    sa.Column("email", sa.String(254)),
    sa.Column("notes", sa.Text),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False, index=True),
)

contact_identities = sa.Table(
    "contact_identities",
    metadata,
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("value", _exact_string(200), nullable=False),
    id_column("contact_id", nullable=False, index=True),
    # A contact's identities keep their order: the first of a kind is the address used.
    sa.Column("position", sa.Integer, nullable=False),
    sa.PrimaryKeyConstraint("kind", "value"),
    sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], ondelete="CASCADE"),
)

conversations = sa.Table(
    "conversations",
    metadata,
    id_column(primary_key=True),
    id_column("contact_id", nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("thread", _exact_string(200)),
    sa.Column("status", sa.String(16), nullable=False),
    id_column("assignee_id"),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("last_activity_at", UtcDateTime, nullable=False),
    sa.Column("last_inbound_at", UtcDateTime),
    sa.Column("unread_count", sa.Integer, nullable=False),
    sa.Column("closed_at", UtcDateTime),
    sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"]),
    # open_for and a contact's conversations; by_thread; the agents' listing, newest
    # activity first, unfiltered, by status or by assignee.
    sa.Index("ix_conversations_contact_id_channel_status", "contact_id", "channel", "status"),
    sa.Index("ix_conversations_channel_thread", "channel", "thread"),
    sa.Index("ix_conversations_last_activity_at", "last_activity_at"),
    sa.Index("ix_conversations_status_last_activity_at", "status", "last_activity_at"),
    sa.Index("ix_conversations_assignee_id_last_activity_at", "assignee_id", "last_activity_at"),
)

messages = sa.Table(
    "messages",
    metadata,
    id_column(primary_key=True),
    id_column("conversation_id", nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("direction", sa.String(8), nullable=False),
    sa.Column("author", sa.String(16), nullable=False),
    id_column("author_id"),
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column("text", sa.Text),
    sa.Column("media_source", sa.String(1000)),
    sa.Column("media_file_key", sa.String(500)),
    sa.Column("media_mime_type", sa.String(255)),
    sa.Column("media_filename", sa.String(500)),
    sa.Column("media_size", sa.BigInteger),
    sa.Column("location_latitude", sa.Double),
    sa.Column("location_longitude", sa.Double),
    sa.Column("location_name", sa.String(500)),
    sa.Column("location_address", sa.String(1000)),
    # {"name", "language", "parameters": [...]}; SQL NULL when there is no template.
    sa.Column("template", sa.JSON(none_as_null=True)),
    sa.Column("external_id", _exact_string(200)),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("status_at", UtcDateTime),
    sa.Column("error_code", sa.String(50)),
    sa.Column("error_title", sa.String(500)),
    sa.Column("raw_type", sa.String(100)),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"]),
    sa.UniqueConstraint("channel", "external_id"),
    sa.Index("ix_messages_conversation_id_created_at", "conversation_id", "created_at"),
)

inbox = sa.Table(
    "inbox",
    metadata,
    id_column(primary_key=True),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("key", _exact_string(255), nullable=False),
    sa.Column("data", sa.JSON, nullable=False),
    sa.Column("received_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("channel", "key"),
)


def _locked(query: sa.Select[Any], lock: bool) -> sa.Select[Any]:
    return query.with_for_update() if lock else query


def _matching(text: str) -> sa.ColumnElement[bool]:
    """Contacts whose name, phone, e-mail or an identity value contains ``text``."""
    needle = text.lower()
    identity = sa.select(contact_identities.c.contact_id).where(
        contact_identities.c.contact_id == contacts.c.id,
        sa.func.lower(contact_identities.c.value).contains(needle, autoescape=True),
    )
    return sa.or_(
        *(
            sa.func.lower(column).contains(needle, autoescape=True)
            for column in (contacts.c.name, contacts.c.phone, contacts.c.email)
        ),
        identity.exists(),
    )


# ---------------------------------------------------------------------------------- contacts


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


class SqlAlchemyContactRepository:
    def __init__(self, tx: Transaction, *, lock: bool = False) -> None:
        self._tx = tx
        self._lock = lock

    async def add(self, contact: Contact) -> None:
        await self._tx.execute(
            contacts.insert().values(
                id=contact.id, created_at=contact.created_at, **_contact_values(contact)
            )
        )
        await self._insert_identities(contact)

    async def get(self, contact_id: str) -> Contact:
        query = contacts.select().where(contacts.c.id == contact_id)
        row = await self._tx.one_or_none(_locked(query, self._lock))
        if row is None:
            raise NotFound("contact", contact_id)
        contact = _bare_contact(row._mapping)
        await self._complete([contact])
        return contact

    async def update(self, contact: Contact) -> None:
        await self._tx.execute(
            contacts.update().where(contacts.c.id == contact.id).values(_contact_values(contact))
        )
        stored = await self._tx.execute(
            sa.select(contact_identities.c.kind, contact_identities.c.value)
            .where(contact_identities.c.contact_id == contact.id)
            .order_by(contact_identities.c.position)
        )
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
        holders = sa.select(contact_identities.c.contact_id).where(
            sa.or_(
                *(
                    sa.and_(
                        contact_identities.c.kind == identity.kind.value,
                        contact_identities.c.value == identity.value,
                    )
                    for identity in identities
                )
            )
        )
        query = (
            contacts.select()
            .where(contacts.c.id.in_(holders))
            .order_by(contacts.c.created_at, contacts.c.id)
        )
        found = [_bare_contact(row) for row in (await self._tx.execute(query)).mappings()]
        await self._complete(found)
        return found

    async def find(self, page: PageRequest, *, text: str | None) -> Page[Contact]:
        query = contacts.select()
        if text:
            query = query.where(_matching(text))
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
        query = (
            contact_identities.select()
            .where(contact_identities.c.contact_id.in_(by_id))
            .order_by(contact_identities.c.contact_id, contact_identities.c.position)
        )
        for row in (await self._tx.execute(query)).mappings():
            identity = ChannelIdentity(IdentityKind(row["kind"]), row["value"])
            by_id[row["contact_id"]].identities.append(identity)


# ----------------------------------------------------------------------------- conversations


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
    }


class SqlAlchemyConversationRepository:
    def __init__(self, tx: Transaction, *, lock: bool = False) -> None:
        self._tx = tx
        self._lock = lock

    async def add(self, conversation: Conversation) -> None:
        await self._tx.execute(conversations.insert().values(as_row(conversation)))

    async def get(self, conversation_id: str) -> Conversation:
        query = conversations.select().where(conversations.c.id == conversation_id)
        row = await self._tx.one_or_none(_locked(query, self._lock))
        if row is None:
            raise NotFound("conversation", conversation_id)
        return _conversation(row._mapping)

    async def update(self, conversation: Conversation) -> None:
        await self._tx.execute(
            conversations.update()
            .where(conversations.c.id == conversation.id)
            .values(_conversation_state(conversation))
        )

    async def open_for(
        self, contact_id: str, channel: Channel, thread: str | None
    ) -> Conversation | None:
        query = (
            conversations.select()
            .where(
                conversations.c.contact_id == contact_id,
                conversations.c.channel == channel.value,
                conversations.c.status != ConversationStatus.CLOSED.value,
                conversations.c.thread.is_(None)
                if thread is None
                else conversations.c.thread == thread,
            )
            .order_by(conversations.c.created_at.desc(), conversations.c.id.desc())
            .limit(1)
        )
        row = await self._tx.one_or_none(_locked(query, self._lock))
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
            matching = sa.select(contacts.c.id).where(_matching(criteria.text))
            query = query.where(conversations.c.contact_id.in_(matching))
        order = [conversations.c.last_activity_at.desc(), conversations.c.id.desc()]
        return await self._tx.page(query, page, order, _conversation)


# ---------------------------------------------------------------------------------- messages


def _message_row(message: Message) -> dict[str, Any]:
    location, template = message.location, message.template
    return {
        "id": message.id,
        "conversation_id": message.conversation_id,
        "channel": message.channel.value,
        "direction": message.direction.value,
        "author": message.author.value,
        "author_id": message.author_id,
        "type": message.type.value,
        "text": message.text,
        "location_latitude": None if location is None else location.latitude,
        "location_longitude": None if location is None else location.longitude,
        "location_name": None if location is None else location.name,
        "location_address": None if location is None else location.address,
        "template": None
        if template is None
        else {
            "name": template.name,
            "language": template.language,
            "parameters": list(template.parameters),
        },
        "raw_type": message.raw_type,
        "created_at": message.created_at,
        **_message_state(message),
    }


def _message_state(message: Message) -> dict[str, Any]:
    """The columns a message's life changes (see ``Message.attach``, ``accepted``,
    ``record_status`` and ``refused``)."""
    media = message.media or Media()
    return {
        "media_source": media.source,
        "media_file_key": media.file_key,
        "media_mime_type": media.mime_type,
        "media_filename": media.filename,
        "media_size": media.size,
        "external_id": message.external_id,
        "status": message.status.value,
        "status_at": message.status_at,
        "error_code": message.error_code,
        "error_title": message.error_title,
    }


_MEDIA = ("media_source", "media_file_key", "media_mime_type", "media_filename", "media_size")


def _message(row: sa.RowMapping) -> Message:
    media = None
    if any(row[column] is not None for column in _MEDIA):
        media = Media(
            source=row["media_source"],
            file_key=row["media_file_key"],
            mime_type=row["media_mime_type"],
            filename=row["media_filename"],
            size=row["media_size"],
        )
    location = None
    if row["location_latitude"] is not None:
        location = Location(
            latitude=row["location_latitude"],
            longitude=row["location_longitude"],
            name=row["location_name"],
            address=row["location_address"],
        )
    template = None
    if row["template"] is not None:
        data = row["template"]
        template = Template(data["name"], data["language"], tuple(data["parameters"]))
    return Message(
        id=row["id"],
        conversation_id=row["conversation_id"],
        channel=Channel(row["channel"]),
        direction=Direction(row["direction"]),
        author=Author(row["author"]),
        author_id=row["author_id"],
        type=MessageType(row["type"]),
        created_at=row["created_at"],
        text=row["text"],
        media=media,
        location=location,
        template=template,
        external_id=row["external_id"],
        status=DeliveryStatus(row["status"]),
        status_at=row["status_at"],
        error_code=row["error_code"],
        error_title=row["error_title"],
        raw_type=row["raw_type"],
    )


class SqlAlchemyMessageRepository:
    def __init__(self, tx: Transaction, *, lock: bool = False) -> None:
        self._tx = tx
        self._lock = lock

    async def add(self, message: Message) -> bool:
        values = _message_row(message)
        if message.external_id is None:
            await self._tx.execute(messages.insert().values(values))
            return True
        if self._tx.dialect in ("mysql", "mariadb"):
            upsert = mysql.insert(messages).values(values)
            await self._tx.execute(upsert.on_duplicate_key_update(id=messages.c.id))
            mine = sa.select(messages.c.id).where(messages.c.id == message.id)
            return await self._tx.one_or_none(mine) is not None
        insert = postgresql.insert if self._tx.dialect == "postgresql" else sqlite.insert
        statement = (
            insert(messages)
            .values(values)
            .on_conflict_do_nothing(index_elements=[messages.c.channel, messages.c.external_id])
        )
        return (await self._tx.execute(statement)).rowcount == 1

    async def get(self, message_id: str) -> Message:
        found = await self._one(messages.c.id == message_id)
        if found is None:
            raise NotFound("message", message_id)
        return found

    async def update(self, message: Message) -> None:
        await self._tx.execute(
            messages.update().where(messages.c.id == message.id).values(_message_state(message))
        )

    async def by_external_id(self, channel: Channel, external_id: str) -> Message | None:
        return await self._one(
            sa.and_(messages.c.channel == channel.value, messages.c.external_id == external_id)
        )

    async def history(self, conversation_id: str, limit: int) -> list[Message]:
        query = (
            messages.select()
            .where(messages.c.conversation_id == conversation_id)
            .order_by(messages.c.created_at.desc(), messages.c.id.desc())
            .limit(limit)
        )
        newest_first = [_message(row) for row in (await self._tx.execute(query)).mappings()]
        return newest_first[::-1]

    async def find(self, conversation_id: str, page: PageRequest) -> Page[Message]:
        query = messages.select().where(messages.c.conversation_id == conversation_id)
        order = [messages.c.created_at.desc(), messages.c.id.desc()]
        return await self._tx.page(query, page, order, _message)

    async def _one(self, condition: sa.ColumnElement[bool]) -> Message | None:
        row = await self._tx.one_or_none(_locked(messages.select().where(condition), self._lock))
        return None if row is None else _message(row._mapping)
