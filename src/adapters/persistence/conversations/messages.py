"""Messages, stored once per provider id."""

from __future__ import annotations

import functools
from typing import Any

import sqlalchemy as sa

from adapters.persistence.connection import Transaction
from adapters.persistence.conversations.tables import messages
from adapters.persistence.prepared import dialect_insert, key, keyed, limit, locking
from talia_core.conversations.events import Location
from talia_core.conversations.messages import Media, Message, Template, Understanding
from talia_core.conversations.vocabulary import (
    Author,
    Channel,
    DeliveryStatus,
    Direction,
    MessageType,
)
from talia_core.shared.errors import NotFound
from talia_core.shared.pagination import Page, PageRequest


def _message_row(message: Message) -> dict[str, Any]:
    location, template = message.location, message.template
    return {
        "id": message.id,
        "conversation_id": message.conversation_id,
        "channel": message.channel.value,
        "direction": message.direction.value,
        "author": message.author.value,
        "author_id": message.author_id,
        "author_version": message.author_version,
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
    """The columns a message's life changes (see ``Message.attach``, ``understood``,
    ``spoken_as_text``, ``accepted``, ``record_status`` and ``refused``)."""
    media = message.media or Media()
    return {
        "type": message.type.value,
        "transcript": message.transcript,
        "understanding": None if message.understanding is None else message.understanding.value,
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
        author_version=row["author_version"],
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
        transcript=row["transcript"],
        understanding=None if row["understanding"] is None else Understanding(row["understanding"]),
    )


_INSERT = messages.insert()
_GET = locking(messages.select().where(messages.c.id == key(messages.c.id)))
_UPDATE = messages.update().where(messages.c.id == key(messages.c.id))
_BY_EXTERNAL_ID = locking(
    messages.select().where(
        messages.c.channel == key(messages.c.channel),
        messages.c.external_id == key(messages.c.external_id),
    )
)
_HISTORY = (
    messages.select()
    .where(messages.c.conversation_id == key(messages.c.conversation_id))
    .order_by(messages.c.created_at.desc(), messages.c.id.desc())
    .limit(limit())
)
_MINE = sa.select(messages.c.id).where(messages.c.id == key(messages.c.id))


@functools.cache
def _add_once(dialect: str) -> Any:
    """An insert that a message with the same provider id already stored turns into nothing."""
    insert = dialect_insert(dialect, messages)
    if dialect in ("mysql", "mariadb"):
        return insert.on_duplicate_key_update(id=messages.c.id)
    return insert.on_conflict_do_nothing(
        index_elements=[messages.c.channel, messages.c.external_id]
    )


class SqlAlchemyMessageRepository:
    def __init__(self, tx: Transaction, *, lock: bool = False) -> None:
        self._tx = tx
        self._lock = lock

    async def add(self, message: Message) -> bool:
        values = _message_row(message)
        if message.external_id is None:
            await self._tx.execute(_INSERT, values)
            return True
        added = await self._tx.execute(_add_once(self._tx.dialect), values)
        if self._tx.dialect in ("mysql", "mariadb"):
            return await self._tx.one_or_none(_MINE, keyed(id=message.id)) is not None
        return added.rowcount == 1

    async def get(self, message_id: str) -> Message:
        row = await self._tx.one_or_none(_GET[self._lock], keyed(id=message_id))
        if row is None:
            raise NotFound("message", message_id)
        return _message(row._mapping)

    async def update(self, message: Message) -> None:
        await self._tx.execute(_UPDATE, {**keyed(id=message.id), **_message_state(message)})

    async def by_external_id(self, channel: Channel, external_id: str) -> Message | None:
        found = keyed(channel=channel.value, external_id=external_id)
        row = await self._tx.one_or_none(_BY_EXTERNAL_ID[self._lock], found)
        return None if row is None else _message(row._mapping)

    async def history(self, conversation_id: str, limit: int) -> list[Message]:
        newest = await self._tx.execute(
            _HISTORY, keyed(conversation_id=conversation_id, limit=limit)
        )
        return [_message(row) for row in newest.mappings()][::-1]

    async def find(self, conversation_id: str, page: PageRequest) -> Page[Message]:
        query = messages.select().where(messages.c.conversation_id == conversation_id)
        order = [messages.c.created_at.desc(), messages.c.id.desc()]
        return await self._tx.page(query, page, order, _message)
