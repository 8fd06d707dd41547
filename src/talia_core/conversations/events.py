"""What channels deliver, and how it travels through the durable inbox.

A channel's adapter parses what it receives into channel-neutral ``InboundMessage``,
``StatusUpdate`` and ``ThreadUpdate`` values; they travel through the durable inbox as plain
data (``to_data``/``from_data``) and become entities in the worker.

What is acknowledged can be stored. A webhook answers 2xx once its events are in the
inbox, and a provider retries anything else for days, so these values take on
construction the form every database keeps, field by field, instead of failing later in
a job:

- Text (a message, a caption, a name) loses its NUL characters, which PostgreSQL cannot
  store, and each unpaired surrogate (JSON's ``"\\ud800"`` lets one through, UTF-8 cannot
  encode it) becomes U+FFFD. A message's text is otherwise kept whole, however long.
- A provider's message id that is too long or holds such characters is kept as its
  SHA-256, like an inbox key: redeliveries still share it, and a status names our message
  by the same digest (``Message.accepted`` stores the provider's id the same way). An
  inbound message's id only dedupes, so nothing is lost.
- An attachment whose reference (a media id, a URL) cannot be stored cannot be fetched
  either: the message is kept as ``UNSUPPORTED`` with the provider's type in ``raw_type``,
  without the attachment, its caption kept; like any other content that cannot be read.
- A MIME type, a phone number or an assignee that cannot be stored is dropped: a cut one
  would be wrong (the download tells the type again). File names, place names and
  addresses and the provider's type name are shortened to their columns (``clip``).
- Identities and threads are the addresses replies go to: one that cannot be stored is
  not the provider's format and is ``Malformed`` (the webhook answers 400).
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
    fits,
    storable,
)
from talia_core.shared.errors import Malformed
from talia_core.shared.ids import new_id
from talia_core.shared.jobs import Job, job_id_for

MAX_PROVIDER_ID = 200
"""A provider's message id, and a thread, as stored; a longer message id becomes its digest."""
# The columns the other fields are stored in, in characters.
MAX_MEDIA_REFERENCE = 1000
MAX_MIME_TYPE = 255
MAX_FILENAME = 500
MAX_PLACE_NAME = 500
MAX_PLACE_ADDRESS = 1000
MAX_PHONE = 64
MAX_RAW_TYPE = 100
MAX_ASSIGNEE = 36


def storable_id(value: str) -> str:
    """A provider's id as kept: itself, or its SHA-256 when it does not fit as it is."""
    return value if fits(value, MAX_PROVIDER_ID) else _digest(value)


def _digest(value: str) -> str:
    return "sha256:" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def _text(value: str | None) -> str | None:
    return None if value is None else storable(value)


def _kept_if_fits(value: str | None, length: int) -> str | None:
    return value if value is not None and fits(value, length) else None


# One named converter a field (what attrs' type checking reads).


def _mime_type(value: str | None) -> str | None:
    return _kept_if_fits(value, MAX_MIME_TYPE)


def _phone(value: str | None) -> str | None:
    return _kept_if_fits(value, MAX_PHONE)


def _assignee(value: str | None) -> str | None:
    return _kept_if_fits(value, MAX_ASSIGNEE)


def _filename(value: str | None) -> str | None:
    return clip(value, MAX_FILENAME)


def _place_name(value: str | None) -> str | None:
    return clip(value, MAX_PLACE_NAME)


def _place_address(value: str | None) -> str | None:
    return clip(value, MAX_PLACE_ADDRESS)


def _raw_type(value: str | None) -> str | None:
    return clip(value, MAX_RAW_TYPE)


@attrs.frozen
class MediaRef:
    """Where a channel keeps an attachment: a provider media id or a URL."""

    reference: str
    mime_type: str | None = attrs.field(default=None, converter=_mime_type)
    filename: str | None = attrs.field(default=None, converter=_filename)


@attrs.frozen
class Location:
    latitude: float
    longitude: float
    name: str | None = attrs.field(default=None, converter=_place_name)
    address: str | None = attrs.field(default=None, converter=_place_address)


@attrs.frozen
class Sender:
    identities: tuple[ChannelIdentity, ...]
    name: str | None = attrs.field(default=None, converter=_text)
    phone: str | None = attrs.field(default=None, converter=_phone)


@attrs.frozen
class InboundMessage:
    """One message a customer sent, as the channel described it.

    ``thread`` is the channel's own conversation handle when it has one (a Chatwoot
    conversation id, a web chat session); ``raw_type`` keeps the provider's type name.
    """

    channel: Channel
    external_id: str = attrs.field(converter=storable_id)
    sender: Sender
    type: MessageType
    sent_at: datetime
    text: str | None = attrs.field(default=None, converter=_text)
    media: MediaRef | None = None
    location: Location | None = None
    thread: str | None = None
    raw_type: str | None = attrs.field(default=None, converter=_raw_type)

    def __attrs_post_init__(self) -> None:
        if not self.external_id:
            raise Malformed("a message needs its provider id")
        if not self.sender.identities:
            raise Malformed("a message needs a sender")
        if self.thread is not None and not fits(self.thread, MAX_PROVIDER_ID):
            raise Malformed(f"a thread must be 1 to {MAX_PROVIDER_ID} storable characters")
        if self.media is not None and not fits(self.media.reference, MAX_MEDIA_REFERENCE):
            # Frozen: attrs' way to settle fields in the initialiser.
            object.__setattr__(self, "raw_type", self.raw_type or self.type.value)
            object.__setattr__(self, "type", MessageType.UNSUPPORTED)
            object.__setattr__(self, "media", None)

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
    external_id: str = attrs.field(converter=storable_id)
    status: DeliveryStatus
    at: datetime
    error_code: str | None = attrs.field(default=None, converter=_text)
    error_title: str | None = attrs.field(default=None, converter=_text)
    message_id: str | None = attrs.field(default=None, converter=_text)
    """Our id of the message, when the provider echoes what we sent with it (WhatsApp's
    ``biz_opaque_callback_data``)."""

    def to_data(self) -> dict[str, Any]:
        return {
            "event": "status",
            "channel": self.channel.value,
            "external_id": self.external_id,
            "status": self.status.value,
            "at": self.at.isoformat(),
            "error_code": self.error_code,
            "error_title": self.error_title,
            "message_id": self.message_id,
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
            message_id=data.get("message_id"),
        )


@attrs.frozen
class ThreadUpdate:
    """A channel moved its own conversation (Chatwoot: opened to humans, resolved...)."""

    channel: Channel
    thread: str
    status: ConversationStatus
    at: datetime
    assignee: str | None = attrs.field(default=None, converter=_assignee)

    def __attrs_post_init__(self) -> None:
        if not self.thread or not fits(self.thread, MAX_PROVIDER_ID):
            raise Malformed(f"a thread must be 1 to {MAX_PROVIDER_ID} storable characters")

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
    return key if fits(key, INBOX_KEY_LENGTH) else _digest(key)


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
    """Text kept shortened on purpose (a name, a provider's diagnosis, an engine's
    transcript): storable, trimmed, cut to ``length``; never refused, it was already sent.
    Never a customer's message, which is kept whole."""
    if text is None:
        return None
    cleaned = storable(text).strip()
    return cleaned[:length] or None
