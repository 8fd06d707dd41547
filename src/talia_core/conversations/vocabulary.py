"""The names contacts, conversations, messages and channel events share.

Channels and the identities they know people by, the states of a conversation, the kinds,
directions, authors and delivery statuses of a message; and the text every database stores.
"""

from __future__ import annotations

import enum
import re

import attrs

from talia_core.shared.errors import Malformed

MAX_IDENTITY = 200
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def storable(text: str) -> str:
    """``text`` without NUL characters (PostgreSQL cannot store one), each unpaired
    surrogate (UTF-8 cannot encode one; JSON's escapes let it through) replaced by U+FFFD."""
    cleaned = text.replace("\x00", "")
    if _SURROGATE.search(cleaned) is None:
        return cleaned
    return cleaned.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def fits(value: str, length: int) -> bool:
    """Whether ``value`` is stored as it is in a column of ``length`` characters."""
    return len(value) <= length and storable(value) == value


class Channel(enum.StrEnum):
    WHATSAPP = "whatsapp"  # Meta's WhatsApp Cloud API
    TWILIO = "twilio"  # WhatsApp through Twilio
    WEBCHAT = "webchat"
    CHATWOOT = "chatwoot"
    VOICE = "voice"  # phone calls, through Twilio Media Streams

    @property
    def has_service_window(self) -> bool:
        """WhatsApp accepts free text only within 24 hours of the customer's last message."""
        return self in (Channel.WHATSAPP, Channel.TWILIO)

    @property
    def identity_kinds(self) -> tuple[IdentityKind, ...]:
        """The identities that reach a contact on this channel, the preferred one first."""
        return _CHANNEL_KINDS[self]


class IdentityKind(enum.StrEnum):
    WA_ID = "wa_id"  # the WhatsApp id, the phone number's digits
    BSUID = "bsuid"  # WhatsApp's business-scoped user id; it can come without a phone
    TWILIO_ADDRESS = "twilio_address"  # "whatsapp:+51987654321"
    WEBCHAT_SESSION = "webchat_session"
    CHATWOOT_CONTACT = "chatwoot_contact"
    PHONE = "phone"  # the caller's number, "+51987654321"


_CHANNEL_KINDS = {
    Channel.WHATSAPP: (IdentityKind.WA_ID, IdentityKind.BSUID),
    Channel.TWILIO: (IdentityKind.TWILIO_ADDRESS,),
    Channel.WEBCHAT: (IdentityKind.WEBCHAT_SESSION,),
    Channel.CHATWOOT: (IdentityKind.CHATWOOT_CONTACT,),
    Channel.VOICE: (IdentityKind.PHONE,),
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
        if not cleaned or not fits(cleaned, MAX_IDENTITY):
            raise Malformed(f"{kind} identity must have 1 to {MAX_IDENTITY} storable characters")
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


class Author(enum.StrEnum):
    CONTACT = "contact"
    BOT = "bot"
    AGENT = "agent"
