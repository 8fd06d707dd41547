"""Contacts, their channel identities, conversations and messages.

What a channel delivers arrives as channel-neutral ``InboundMessage``, ``StatusUpdate`` and
``ThreadUpdate`` values (parsed by the channel's adapter); they travel through the durable
inbox as plain data (``to_data``/``from_data``) and become entities in the worker.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import attrs

from talia_core.shared.errors import Conflict, Malformed, RuleViolated
from talia_core.shared.ids import new_id
from talia_core.shared.jobs import Job, job_id_for
from talia_core.shared.text import optional_text, required_text

MAX_TEXT = 4096
MAX_NAME = 200
SERVICE_WINDOW = timedelta(hours=24)
INBOX_JOB = "conversations.inbox"


class Channel(enum.StrEnum):
    WHATSAPP = "whatsapp"  # Meta's WhatsApp Cloud API
    TWILIO = "twilio"  # WhatsApp through Twilio
    WEBCHAT = "webchat"
    CHATWOOT = "chatwoot"

    @property
    def has_service_window(self) -> bool:
        """WhatsApp accepts free text only within 24 hours of the customer's last message."""
        return self in (Channel.WHATSAPP, Channel.TWILIO)


class IdentityKind(enum.StrEnum):
    WA_ID = "wa_id"  # the WhatsApp id, the phone number's digits
    BSUID = "bsuid"  # WhatsApp's business-scoped user id; it can come without a phone
    TWILIO_ADDRESS = "twilio_address"  # "whatsapp:+51987654321"
    WEBCHAT_SESSION = "webchat_session"
    CHATWOOT_CONTACT = "chatwoot_contact"


_CHANNEL_KINDS = {
    Channel.WHATSAPP: (IdentityKind.WA_ID, IdentityKind.BSUID),
    Channel.TWILIO: (IdentityKind.TWILIO_ADDRESS,),
    Channel.WEBCHAT: (IdentityKind.WEBCHAT_SESSION,),
    Channel.CHATWOOT: (IdentityKind.CHATWOOT_CONTACT,),
}


@attrs.frozen
class ChannelIdentity:
    """How one channel knows a person; a contact may have several."""

    kind: IdentityKind
    value: str

    @property
    def channel(self) -> Channel:
        return next(c for c, kinds in _CHANNEL_KINDS.items() if self.kind in kinds)

    @classmethod
    def of(cls, kind: str, value: str) -> ChannelIdentity:
        try:
            parsed = IdentityKind(kind)
        except ValueError:
            raise Malformed(f"unknown identity kind {kind!r}") from None
        cleaned = value.strip()
        if not cleaned or len(cleaned) > 200:
            raise Malformed(f"{kind} identity must have 1 to 200 characters")
        return cls(parsed, cleaned)


class ConversationStatus(enum.StrEnum):
    BOT = "bot"
    HUMAN = "human"
    CLOSED = "closed"


class Direction(enum.StrEnum):
    INBOUND = "in"
    OUTBOUND = "out"


class MessageType(enum.StrEnum):
    TEXT = "text"
    AUDIO = "audio"
    IMAGE = "image"
    VIDEO = "video"
    DOCUMENT = "document"
    LOCATION = "location"
    INTERACTIVE = "interactive"  # a button or list reply
    TEMPLATE = "template"
    UNSUPPORTED = "unsupported"  # stored as received, shown to agents, never a crash

    @property
    def has_media(self) -> bool:
        return self in (
            MessageType.AUDIO,
            MessageType.IMAGE,
            MessageType.VIDEO,
            MessageType.DOCUMENT,
        )


class DeliveryStatus(enum.StrEnum):
    RECEIVED = "received"  # an inbound message
    PENDING = "pending"  # an outbound message not yet accepted by the provider
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"


_PROGRESS = {
    DeliveryStatus.PENDING: 0,
    DeliveryStatus.SENT: 1,
    DeliveryStatus.DELIVERED: 2,
    DeliveryStatus.READ: 3,
}


class Author(enum.StrEnum):
    CONTACT = "contact"
    BOT = "bot"
    AGENT = "agent"


# --- what channels deliver -------------------------------------------------------------


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


def inbox_key(event: ChannelEvent) -> str:
    """What makes a delivery the same event: redeliveries share it, distinct events never do."""
    if isinstance(event, InboundMessage):
        return f"message:{event.external_id}"
    if isinstance(event, StatusUpdate):
        return f"status:{event.external_id}:{event.status.value}"
    return f"thread:{event.thread}:{event.status.value}:{event.at.isoformat()}"


def event_from_data(data: Mapping[str, Any]) -> ChannelEvent:
    kind = data.get("event")
    if kind == "message":
        return InboundMessage.from_data(data)
    if kind == "status":
        return StatusUpdate.from_data(data)
    if kind == "thread":
        return ThreadUpdate.from_data(data)
    raise Malformed(f"unknown inbox event {kind!r}")


# --- entities -------------------------------------------------------------------------


@attrs.define
class Contact:
    name: str | None
    identities: list[ChannelIdentity]
    created_at: datetime
    updated_at: datetime
    phone: str | None = None
    email: str | None = None
    notes: str | None = None
    id: str = attrs.field(factory=new_id)

    @classmethod
    def first_seen(cls, sender: Sender, at: datetime) -> Contact:
        return cls(
            name=_clip(sender.name, MAX_NAME),
            identities=list(dict.fromkeys(sender.identities)),
            created_at=at,
            updated_at=at,
            phone=sender.phone,
        )

    def learn(self, sender: Sender, at: datetime) -> bool:
        """Take the identities and details this sender adds; True when anything changed."""
        added = [i for i in sender.identities if i not in self.identities]
        self.identities.extend(added)
        changed = bool(added)
        if sender.name and not self.name:
            self.name = _clip(sender.name, MAX_NAME)
            changed = True
        if sender.phone and not self.phone:
            self.phone = sender.phone
            changed = True
        if changed:
            self.updated_at = at
        return changed

    def edit(self, *, name: str | None, email: str | None, notes: str | None, at: datetime) -> None:
        self.name = optional_text("name", name, MAX_NAME)
        self.email = optional_text("email", email, 254)
        self.notes = optional_text("notes", notes, 2000)
        self.updated_at = at

    def identity_for(self, channel: Channel) -> ChannelIdentity | None:
        """The address to reach the contact on a channel (a WhatsApp wa_id before a BSUID)."""
        for kind in _CHANNEL_KINDS[channel]:
            for identity in self.identities:
                if identity.kind is kind:
                    return identity
        return None


def _clip(text: str | None, length: int) -> str | None:
    if text is None:
        return None
    cleaned = text.strip()
    return cleaned[:length] or None


@attrs.define
class Conversation:
    contact_id: str
    channel: Channel
    created_at: datetime
    last_activity_at: datetime
    thread: str | None = None
    status: ConversationStatus = ConversationStatus.BOT
    assignee_id: str | None = None
    last_inbound_at: datetime | None = None
    unread_count: int = 0
    closed_at: datetime | None = None
    id: str = attrs.field(factory=new_id)

    @classmethod
    def start(
        cls, contact_id: str, channel: Channel, thread: str | None, at: datetime
    ) -> Conversation:
        return cls(
            contact_id=contact_id,
            channel=channel,
            thread=thread,
            created_at=at,
            last_activity_at=at,
        )

    @property
    def bot_may_reply(self) -> bool:
        return self.status is ConversationStatus.BOT

    def receive(self, at: datetime) -> None:
        self._open()
        self.unread_count += 1
        self.last_inbound_at = max(self.last_inbound_at or at, at)
        self.last_activity_at = max(self.last_activity_at, at)

    def record_reply(self, at: datetime) -> None:
        self._open()
        self.last_activity_at = max(self.last_activity_at, at)

    def within_service_window(self, now: datetime) -> bool:
        if not self.channel.has_service_window:
            return True
        return self.last_inbound_at is not None and now - self.last_inbound_at < SERVICE_WINDOW

    def hand_off(self, assignee_id: str | None, at: datetime) -> None:
        self._open()
        self.status = ConversationStatus.HUMAN
        self.assignee_id = assignee_id or self.assignee_id
        self.last_activity_at = max(self.last_activity_at, at)

    def release(self, at: datetime) -> None:
        self._open()
        self.status = ConversationStatus.BOT
        self.assignee_id = None
        self.last_activity_at = max(self.last_activity_at, at)

    def close(self, at: datetime) -> None:
        if self.status is ConversationStatus.CLOSED:
            raise Conflict(f"conversation {self.id} is already closed")
        self.status = ConversationStatus.CLOSED
        self.closed_at = at
        self.last_activity_at = max(self.last_activity_at, at)

    def mark_read(self) -> None:
        self.unread_count = 0

    def _open(self) -> None:
        if self.status is ConversationStatus.CLOSED:
            raise Conflict(f"conversation {self.id} is closed")


@attrs.frozen
class Media:
    """An attachment: ``file_key`` once stored in the file store, ``source`` the channel's."""

    source: str | None = None
    file_key: str | None = None
    mime_type: str | None = None
    filename: str | None = None
    size: int | None = None


@attrs.frozen
class Template:
    name: str
    language: str
    parameters: tuple[str, ...] = ()


@attrs.define
class Message:
    conversation_id: str
    channel: Channel
    direction: Direction
    author: Author
    type: MessageType
    created_at: datetime
    text: str | None = None
    media: Media | None = None
    location: Location | None = None
    template: Template | None = None
    external_id: str | None = None
    author_id: str | None = None
    status: DeliveryStatus = DeliveryStatus.PENDING
    status_at: datetime | None = None
    error_code: str | None = None
    error_title: str | None = None
    raw_type: str | None = None
    id: str = attrs.field(factory=new_id)

    @classmethod
    def inbound(cls, conversation_id: str, event: InboundMessage, received_at: datetime) -> Message:
        """Ordered by when we received it (provider clocks and queues are not ours); the
        provider's own time is kept as ``status_at``."""
        media = None
        if event.media is not None:
            media = Media(
                source=event.media.reference,
                mime_type=event.media.mime_type,
                filename=event.media.filename,
            )
        return cls(
            conversation_id=conversation_id,
            channel=event.channel,
            direction=Direction.INBOUND,
            author=Author.CONTACT,
            type=event.type,
            created_at=received_at,
            text=_clip(event.text, MAX_TEXT),
            media=media,
            location=event.location,
            external_id=event.external_id,
            status=DeliveryStatus.RECEIVED,
            status_at=event.sent_at,
            raw_type=event.raw_type,
        )

    @classmethod
    def reply(
        cls,
        conversation: Conversation,
        *,
        author: Author,
        at: datetime,
        text: str | None = None,
        template: Template | None = None,
        author_id: str | None = None,
    ) -> Message:
        if (text is None) == (template is None):
            raise RuleViolated("a reply has either text or a template", {"text": "required"})
        return cls(
            conversation_id=conversation.id,
            channel=conversation.channel,
            direction=Direction.OUTBOUND,
            author=author,
            type=MessageType.TEXT if text is not None else MessageType.TEMPLATE,
            created_at=at,
            text=required_text("text", text, MAX_TEXT) if text is not None else None,
            template=template,
            author_id=author_id,
        )

    def attach(self, media: Media) -> None:
        self.media = media

    def accepted(self, external_id: str, at: datetime) -> None:
        """The provider took the message and named it."""
        self.external_id = external_id
        if self.status is DeliveryStatus.PENDING:
            self.status = DeliveryStatus.SENT
            self.status_at = at

    def record_status(self, update: StatusUpdate) -> bool:
        """Apply a status if it moves the message forward; True when it changed anything.

        Statuses arrive unordered: a later step that arrived first wins over an earlier
        one that arrives late (read before delivered leaves it read). A failure counts
        unless a later success was already seen.
        """
        if self.direction is not Direction.OUTBOUND or self.status is DeliveryStatus.FAILED:
            return False
        if update.status is DeliveryStatus.FAILED:
            if (
                self.status_at is not None
                and self.status_at > update.at
                and self.status
                in (
                    DeliveryStatus.DELIVERED,
                    DeliveryStatus.READ,
                )
            ):
                return False
            self.status = DeliveryStatus.FAILED
            self.status_at = update.at
            self.error_code = _clip(update.error_code, 50)
            self.error_title = _clip(update.error_title, 500)
            return True
        if update.status not in _PROGRESS or _PROGRESS[update.status] <= _PROGRESS[self.status]:
            return False
        self.status = update.status
        self.status_at = max(self.status_at or update.at, update.at)
        return True

    def refused(self, code: str | None, title: str, at: datetime) -> None:
        """The provider refused the message for good."""
        self.status = DeliveryStatus.FAILED
        self.status_at = at
        self.error_code = _clip(code, 50)
        self.error_title = _clip(title, 500)
