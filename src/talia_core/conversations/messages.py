"""Messages both ways, their attachments and templates, and how their delivery went."""

from __future__ import annotations

import enum
from datetime import datetime

import attrs

from talia_core.conversations.conversation import Conversation
from talia_core.conversations.events import (
    InboundMessage,
    Location,
    StatusUpdate,
    clip,
    storable_id,
)
from talia_core.conversations.vocabulary import (
    Author,
    Channel,
    DeliveryStatus,
    Direction,
    MessageType,
)
from talia_core.shared.errors import RuleViolated
from talia_core.shared.ids import new_id
from talia_core.shared.text import required_text

MAX_TEXT = 4096
"""What we send in one message (WhatsApp's limit for a text body) and what the web chat
takes; a message a customer sent through a provider is kept whole, however long."""
# A provider's diagnosis of a failed delivery is kept for agents to read, shortened on
# purpose: it is the provider's text, not the customer's.
MAX_ERROR_CODE = 50
MAX_ERROR_TITLE = 500
# What an engine heard in a voice note or saw in a photo is kept for agents and the
# assistant, shortened on purpose: it is the engine's text, not the customer's.
MAX_TRANSCRIPT = 10_000

# How far a message we sent got. A failure comes after sending and before delivery: a
# message that reached the customer has not failed, whatever order the news arrives in.
_PROGRESS = {
    DeliveryStatus.PENDING: 0,
    DeliveryStatus.SENT: 1,
    DeliveryStatus.FAILED: 2,
    DeliveryStatus.DELIVERED: 3,
    DeliveryStatus.READ: 4,
}


@attrs.frozen
class Media:
    """An attachment: ``file_key`` once stored in the file store, ``source`` the channel's."""

    source: str | None = None
    file_key: str | None = None
    mime_type: str | None = None
    filename: str | None = None
    size: int | None = None


class Understanding(enum.StrEnum):
    """Where an inbound voice note or photo stands on being put into words."""

    PENDING = "pending"  # not tried yet: the assistant waits for it
    UNDERSTOOD = "understood"  # ``transcript`` holds the words or the description
    NOT_UNDERSTOOD = "not_understood"  # tried and failed: the assistant answered without


UNDERSTANDABLE = frozenset({MessageType.AUDIO, MessageType.IMAGE})
"""The kinds of inbound media put into words before the assistant answers."""


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
    """The agent's user id, or the id of the assistant whose ``author_version`` wrote it."""
    author_version: int | None = None
    status: DeliveryStatus = DeliveryStatus.PENDING
    status_at: datetime | None = None
    error_code: str | None = None
    error_title: str | None = None
    raw_type: str | None = None
    transcript: str | None = None
    """A voice note's words, or what a photo shows; ``text`` stays the customer's caption."""
    understanding: Understanding | None = None
    """Set on inbound voice notes and photos only."""
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
            text=(event.text or "").strip() or None,
            media=media,
            location=event.location,
            external_id=event.external_id,
            status=DeliveryStatus.RECEIVED,
            status_at=event.sent_at,
            raw_type=event.raw_type,
            understanding=Understanding.PENDING
            if media is not None and event.type in UNDERSTANDABLE
            else None,
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
        author_version: int | None = None,
        spoken: bool = False,
    ) -> Message:
        """``spoken``: the text goes out as a voice note (as text when it cannot be spoken)."""
        if (text is None) == (template is None):
            raise RuleViolated("a reply has either text or a template", {"text": "required"})
        kind = MessageType.TEMPLATE if text is None else MessageType.TEXT
        return cls(
            conversation_id=conversation.id,
            channel=conversation.channel,
            direction=Direction.OUTBOUND,
            author=author,
            type=MessageType.AUDIO if spoken and text is not None else kind,
            created_at=at,
            text=required_text("text", text, MAX_TEXT) if text is not None else None,
            template=template,
            author_id=author_id,
            author_version=author_version,
        )

    def attach(self, media: Media) -> None:
        self.media = media

    def understood(self, transcript: str) -> None:
        """The words of the voice note, or what the photo shows."""
        self.transcript = clip(transcript, MAX_TRANSCRIPT)
        self.understanding = (
            Understanding.UNDERSTOOD if self.transcript else Understanding.NOT_UNDERSTOOD
        )

    def not_understood(self) -> None:
        """Tried and failed (for now): the assistant answers without the words."""
        if self.understanding is not Understanding.UNDERSTOOD:
            self.understanding = Understanding.NOT_UNDERSTOOD

    def spoken_as_text(self) -> None:
        """A voice reply that could not be spoken goes out as the text it always held."""
        if self.direction is Direction.OUTBOUND and self.type is MessageType.AUDIO:
            self.type = MessageType.TEXT

    def accepted(self, external_id: str, at: datetime) -> None:
        """The provider took the message and named it (as its statuses will name it)."""
        self.external_id = storable_id(external_id)
        if self.status is DeliveryStatus.PENDING:
            self.status = DeliveryStatus.SENT
            self.status_at = at

    def record_status(self, update: StatusUpdate) -> bool:
        """Apply a status if it moves the message further; True when it changed anything.

        Statuses arrive unordered, so the message ends at the furthest one seen, whatever
        their order: sent, then failed, then delivered, then read. A failure reported once
        the message was delivered or read is ignored (the caller may log it); a delivery
        or a read reported after a failure wins, and the failure's code and title go.
        """
        if self.direction is not Direction.OUTBOUND or update.status not in _PROGRESS:
            return False
        if _PROGRESS[update.status] <= _PROGRESS[self.status]:
            return False
        self.status = update.status
        self.status_at = max(self.status_at or update.at, update.at)
        failed = update.status is DeliveryStatus.FAILED
        self.error_code = clip(update.error_code, MAX_ERROR_CODE) if failed else None
        self.error_title = clip(update.error_title, MAX_ERROR_TITLE) if failed else None
        return True

    def refused(self, code: str | None, title: str, at: datetime) -> None:
        """The provider refused the message for good."""
        self.status = DeliveryStatus.FAILED
        self.status_at = at
        self.error_code = clip(code, MAX_ERROR_CODE)
        self.error_title = clip(title, MAX_ERROR_TITLE)
