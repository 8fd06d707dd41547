"""What channels deliver, and how it travels through the durable inbox.

A channel's adapter parses what it receives into channel-neutral ``InboundMessage``,
``StatusUpdate`` and ``ThreadUpdate`` values; they travel through the durable inbox as plain
data (``to_data``/``from_data``) and become entities in the worker.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from talia_core.conversations.jobs import INBOX_JOB
from talia_core.conversations.vocabulary import (
    Channel,
    ChannelIdentity,
    ConversationStatus,
    DeliveryStatus,
    MessageType,
)
from talia_core.shared.errors import Malformed
from talia_core.shared.ids import new_id
from talia_core.shared.jobs import Job, job_id_for


@attrs.frozen
class MediaRef:
    """Where a channel keeps an attachment: a provider media id or a URL."""

    reference: str
    mime_type: str | None = None
    filename: str | None = None


@attrs.frozen
class Location:
    latitude: float
    longitude: float
    name: str | None = None
    address: str | None = None


@attrs.frozen
class Sender:
    identities: tuple[ChannelIdentity, ...]
    name: str | None = None
    phone: str | None = None


@attrs.frozen
class InboundMessage:
    """One message a customer sent, as the channel described it.

    ``thread`` is the channel's own conversation handle when it has one (a Chatwoot
    conversation id, a web chat session); ``raw_type`` keeps the provider's type name.
    """

    channel: Channel
    external_id: str
    sender: Sender
    type: MessageType
    sent_at: datetime
    text: str | None = None
    media: MediaRef | None = None
    location: Location | None = None
    thread: str | None = None
    raw_type: str | None = None

    def __attrs_post_init__(self) -> None:
        if not self.external_id:
            raise Malformed("a message needs its provider id")
        if not self.sender.identities:
            raise Malformed("a message needs a sender")

    def to_data(self) -> dict[str, Any]:
        return {
            "event": "message",
            "channel": self.channel.value,
            "external_id": self.external_id,
            "sender": {
                "identities": [[i.kind.value, i.value] for i in self.sender.identities],
                "name": self.sender.name,
                "phone": self.sender.phone,
            },
            "type": self.type.value,
            "sent_at": self.sent_at.isoformat(),
            "text": self.text,
            "media": attrs.asdict(self.media) if self.media else None,
            "location": attrs.asdict(self.location) if self.location else None,
            "thread": self.thread,
            "raw_type": self.raw_type,
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> InboundMessage:
        sender = data["sender"]
        return cls(
            channel=Channel(data["channel"]),
            external_id=data["external_id"],
            sender=Sender(
                identities=tuple(ChannelIdentity.of(k, v) for k, v in sender["identities"]),
                name=sender.get("name"),
                phone=sender.get("phone"),
            ),
            type=MessageType(data["type"]),
            sent_at=datetime.fromisoformat(data["sent_at"]),
            text=data.get("text"),
            media=MediaRef(**data["media"]) if data.get("media") else None,
            location=Location(**data["location"]) if data.get("location") else None,
            thread=data.get("thread"),
            raw_type=data.get("raw_type"),
        )


@attrs.frozen
class StatusUpdate:
    """The provider's news about a message we sent."""

    channel: Channel
    external_id: str
    status: DeliveryStatus
    at: datetime
    error_code: str | None = None
    error_title: str | None = None

    def to_data(self) -> dict[str, Any]:
        return {
            "event": "status",
            "channel": self.channel.value,
            "external_id": self.external_id,
            "status": self.status.value,
            "at": self.at.isoformat(),
            "error_code": self.error_code,
            "error_title": self.error_title,
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> StatusUpdate:
        return cls(
            channel=Channel(data["channel"]),
            external_id=data["external_id"],
            status=DeliveryStatus(data["status"]),
            at=datetime.fromisoformat(data["at"]),
            error_code=data.get("error_code"),
            error_title=data.get("error_title"),
        )


@attrs.frozen
class ThreadUpdate:
    """A channel moved its own conversation (Chatwoot: opened to humans, resolved...)."""

    channel: Channel
    thread: str
    status: ConversationStatus
    at: datetime
    assignee: str | None = None

    def to_data(self) -> dict[str, Any]:
        return {
            "event": "thread",
            "channel": self.channel.value,
            "thread": self.thread,
            "status": self.status.value,
            "at": self.at.isoformat(),
            "assignee": self.assignee,
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> ThreadUpdate:
        return cls(
            channel=Channel(data["channel"]),
            thread=data["thread"],
            status=ConversationStatus(data["status"]),
            at=datetime.fromisoformat(data["at"]),
            assignee=data.get("assignee"),
        )


ChannelEvent = InboundMessage | StatusUpdate | ThreadUpdate


@attrs.frozen
class InboxEntry:
    """One event as the durable inbox stores it: unique by (channel, key)."""

    channel: Channel
    key: str
    data: dict[str, Any]
    received_at: datetime
    id: str = attrs.field(factory=new_id)

    @classmethod
    def of(cls, event: ChannelEvent, received_at: datetime) -> InboxEntry:
        data = {**event.to_data(), "received_at": received_at.isoformat()}
        return cls(event.channel, inbox_key(event), data, received_at)

    def job(self) -> Job:
        """The job that processes the entry; its id follows from the entry's key, so a
        redelivery can never add a second one."""
        return Job.new(
            INBOX_JOB,
            self.data,
            at=self.received_at,
            job_id=job_id_for(f"inbox:{self.channel.value}:{self.key}"),
        )


INBOX_KEY_LENGTH = 255
"""What the inbox's unique key holds; a longer key is stored as its digest."""


def inbox_key(event: ChannelEvent) -> str:
    """What makes a delivery the same event: redeliveries share it, distinct events never do.

    A provider's id is not ours to bound: a key past ``INBOX_KEY_LENGTH`` becomes its
    SHA-256, which dedupes the same and fits the column on every database."""
    if isinstance(event, InboundMessage):
        key = f"message:{event.external_id}"
    elif isinstance(event, StatusUpdate):
        key = f"status:{event.external_id}:{event.status.value}"
    else:
        key = f"thread:{event.thread}:{event.status.value}:{event.at.isoformat()}"
    if len(key) <= INBOX_KEY_LENGTH:
        return key
    return "sha256:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def event_from_data(data: Mapping[str, Any]) -> ChannelEvent:
    kind = data.get("event")
    if kind == "message":
        return InboundMessage.from_data(data)
    if kind == "status":
        return StatusUpdate.from_data(data)
    if kind == "thread":
        return ThreadUpdate.from_data(data)
    raise Malformed(f"unknown inbox event {kind!r}")


def clip(text: str | None, length: int) -> str | None:
    """Text a channel gave us, trimmed to what we store: never refused, it was already sent."""
    if text is None:
        return None
    cleaned = text.strip()
    return cleaned[:length] or None
