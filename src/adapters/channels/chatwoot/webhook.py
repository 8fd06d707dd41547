"""Chatwoot's agent-bot webhook: whether a delivery is authentic, and the events it carries.

Authenticity, two ways; the webhook route checks whichever it is configured for:

- ``signature_valid``: Chatwoot 4.13 and later sign agent-bot deliveries (PR chatwoot#13892;
  account webhooks since 4.11.2, PR chatwoot#13573) with the bot's own ``secret``:
  ``X-Chatwoot-Timestamp: <Unix seconds>`` and ``X-Chatwoot-Signature: sha256=<hex>``, the
  HMAC-SHA256 of ``"{timestamp}.{raw body}"`` (``Webhooks::Trigger#request_headers``). The
  timestamp is signed, so a delivery older than ``max_age_seconds`` (5 minutes, as Chatwoot
  advises) is refused as a replay; Chatwoot's retries sign again with a fresh timestamp.
- ``token_valid``: earlier versions send nothing to check, so the bot's URL carries a shared
  token (``...?token=<token>``), compared in constant time. It is only as secret as that URL.

``parse_event`` reads one event. Chatwoot sends its agent bot ``message_created``,
``message_updated``, ``conversation_opened``, ``conversation_resolved``,
``conversation_status_changed``, ``conversation_updated`` and ``webwidget_triggered``
(``AgentBotListener``). Stored: ``message_created`` from the contact (``message_type``
``incoming``, not private) as an ``InboundMessage``, and the three status events as a
``ThreadUpdate`` (``pending`` is the bot's, ``open`` humans', ``resolved`` closed; the three
events of one change share their inbox key, so it is stored once). Everything else
(our own and agents' messages, activity notes, private notes, ``snoozed``, other events) is
skipped with its reason in ``Notification.ignored``. ``Malformed`` is kept for what cannot be
trusted at all: not a JSON object, no ``event``, a contact's message without its id,
conversation, sender or time, a status event without its conversation id or time.

Attachments (``attachments[]``: ``file_type``, ``data_url``; ``coordinates_lat``/``_long``
for a location): ``image``, ``audio``, ``video`` and ``file`` (a DOCUMENT, its file name taken
from the URL's last segment) become a ``MediaRef`` to the ``data_url``. A message with
several attachments becomes one event per attachment: the first keeps the message id and
the text, the next ones are ``{id}:2``, ``{id}:3``...
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

import attrs

from adapters.channels import wire
from adapters.channels.wire import Notification
from talia_core.conversations.events import (
    ChannelEvent,
    InboundMessage,
    Location,
    MediaRef,
    Sender,
    ThreadUpdate,
)
from talia_core.conversations.vocabulary import (
    Channel,
    ChannelIdentity,
    ConversationStatus,
    IdentityKind,
    MessageType,
)
from talia_core.shared.errors import Malformed

SIGNATURE_HEADER = "X-Chatwoot-Signature"
TIMESTAMP_HEADER = "X-Chatwoot-Timestamp"
MAX_SIGNATURE_AGE = 300

_SIGNATURE_PREFIX = "sha256="

# Message#message_type: the webhook sends the enum's name, push events its number.
_MESSAGE_TYPES = {0: "incoming", 1: "outgoing", 2: "activity", 3: "template"}
_STATUS_EVENTS = frozenset(
    {"conversation_status_changed", "conversation_opened", "conversation_resolved"}
)
_STATUSES = {
    "pending": ConversationStatus.BOT,
    "open": ConversationStatus.HUMAN,
    "resolved": ConversationStatus.CLOSED,
}
# Attachment#file_type; location, fallback, share, story_mention, contact, ig_reel... aside.
_MEDIA_TYPES = {
    "image": MessageType.IMAGE,
    "audio": MessageType.AUDIO,
    "video": MessageType.VIDEO,
    "file": MessageType.DOCUMENT,
}


# --- authenticity -------------------------------------------------------------------------


def signature_valid(
    secret: bytes,
    body: bytes,
    headers: Mapping[str, str],
    *,
    now: float | None = None,
    max_age_seconds: int = MAX_SIGNATURE_AGE,
) -> bool:
    """Whether ``X-Chatwoot-Signature`` signs this body and a timestamp within
    ``max_age_seconds`` of ``now`` (either side, for clock skew), with the bot's secret."""
    if not secret:
        return False
    signature = _header(headers, SIGNATURE_HEADER)
    timestamp = _header(headers, TIMESTAMP_HEADER)
    if signature is None or timestamp is None:
        return False
    timestamp = timestamp.strip()
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12:
        return False
    moment = time.time() if now is None else now
    if abs(moment - int(timestamp)) > max_age_seconds:
        return False
    value = signature.strip()
    if not value.startswith(_SIGNATURE_PREFIX) or not value.isascii():
        return False
    given = value[len(_SIGNATURE_PREFIX) :].lower()
    signed = timestamp.encode() + b"." + body
    expected = hmac.new(secret, signed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, given)


def token_valid(expected: str, given: str | None) -> bool:
    """Whether the token in the bot's URL is ours (constant time); never without one."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """A header by name in any case, from a plain dict or a framework's headers."""
    value = headers.get(name)
    if value is None:
        value = headers.get(name.lower())
    if value is None:
        wanted = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == wanted), None)
    return value


# --- events ---------------------------------------------------------------------------------


def parse_event(body: bytes) -> Notification:
    """Read one agent-bot event; ``Malformed`` when it cannot be trusted at all."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        raise Malformed("the Chatwoot event is not JSON") from None
    root = wire.json_dict(document, "the Chatwoot event")
    event = wire.text(root.get("event"))
    if event is None:
        raise Malformed("the Chatwoot event does not say which event it is")
    if event == "message_created":
        return _message_created(root)
    if event in _STATUS_EVENTS:
        return _status_changed(event, root)
    return Notification([], [f"event {event!r} is not handled"])


def _message_created(message: Mapping[str, Any]) -> Notification:
    raw_id = message.get("id")
    kind = message.get("message_type")
    kind = _MESSAGE_TYPES.get(kind, kind) if isinstance(kind, int) else kind
    if message.get("private") is True:
        return Notification([], [f"private note {raw_id!r} is not for the contact"])
    if kind != "incoming":
        return Notification([], [f"{kind!r} message {raw_id!r} is not from the contact"])
    external_id = _identifier(raw_id, "a contact's message id")
    conversation = wire.json_dict(
        message.get("conversation"), f"message {external_id}'s conversation"
    )
    thread = _identifier(conversation.get("id"), f"message {external_id}'s conversation id")
    sender = _sender(wire.json_dict(message.get("sender"), f"message {external_id}'s sender"))
    sent_at = _moment(message.get("created_at"), f"message {external_id}")
    text = wire.text(message.get("content"))
    contents = [
        _attachment(a) for a in wire.optional_list(message.get("attachments"), "attachments")
    ]
    if not contents:
        kind_of_text = MessageType.TEXT if text else MessageType.UNSUPPORTED
        contents = [_Content(kind_of_text, raw_type=wire.text(message.get("content_type")))]
    events: list[ChannelEvent] = [
        InboundMessage(
            channel=Channel.CHATWOOT,
            external_id=external_id if index == 1 else f"{external_id}:{index}",
            sender=sender,
            type=content.type,
            sent_at=sent_at,
            text=text if index == 1 else None,
            media=content.media,
            location=content.location,
            thread=thread,
            raw_type=content.raw_type,
        )
        for index, content in enumerate(contents, 1)
    ]
    return Notification(events, [])


@attrs.frozen
class _Content:
    type: MessageType
    media: MediaRef | None = None
    location: Location | None = None
    raw_type: str | None = None


def _attachment(raw: object) -> _Content:
    """What an attachment is; UNSUPPORTED (with its file type) when it cannot be read."""
    attachment = raw if isinstance(raw, dict) else {}
    file_type = wire.text(attachment.get("file_type"))
    url = wire.text(attachment.get("data_url"))
    if file_type in _MEDIA_TYPES and url is not None:
        filename = _filename(url) if file_type == "file" else None
        return _Content(_MEDIA_TYPES[file_type], MediaRef(url, None, filename), raw_type=file_type)
    if file_type == "location":
        location = _location(attachment)
        if location is not None:
            return _Content(MessageType.LOCATION, location=location, raw_type=file_type)
    return _Content(MessageType.UNSUPPORTED, raw_type=file_type)


def _filename(url: str) -> str | None:
    """An Active Storage URL ends with the file's name (``.../redirect/<id>/invoice.pdf``)."""
    path = url.split("?", 1)[0].split("#", 1)[0]
    name = unquote(path.rstrip("/").rsplit("/", 1)[-1]).strip()
    return name[:255] or None


def _location(attachment: Mapping[str, Any]) -> Location | None:
    latitude = wire.number(attachment.get("coordinates_lat"))
    longitude = wire.number(attachment.get("coordinates_long"))
    if latitude is None or longitude is None:
        return None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None  # also NaN, which Python's JSON reader lets through
    return Location(latitude, longitude, wire.text(attachment.get("fallback_title")))


def _sender(sender: Mapping[str, Any]) -> Sender:
    contact_id = _identifier(sender.get("id"), "the sender's contact id")
    return Sender(
        (ChannelIdentity.of(IdentityKind.CHATWOOT_CONTACT, contact_id),),
        name=wire.text(sender.get("name")),
        phone=wire.text(sender.get("phone_number")),
    )


def _status_changed(event: str, conversation: Mapping[str, Any]) -> Notification:
    thread = _identifier(conversation.get("id"), f"{event}'s conversation id")
    name = wire.text(conversation.get("status")) or _changed_status(conversation)
    status = _STATUSES.get(name) if name is not None else None
    if status is None:
        return Notification([], [f"{event}: conversation {thread} is {name!r}, not tracked"])
    at = _changed_at(conversation, f"{event} of conversation {thread}")
    assignee = _assignee(conversation) if status is ConversationStatus.HUMAN else None
    return Notification([ThreadUpdate(Channel.CHATWOOT, thread, status, at, assignee)], [])


def _changed_status(conversation: Mapping[str, Any]) -> str | None:
    """``changed_attributes: [{"status": {"current_value": "open", "previous_value": ...}}]``."""
    for change in wire.optional_list(conversation.get("changed_attributes"), "changed_attributes"):
        status = change.get("status") if isinstance(change, dict) else None
        if isinstance(status, dict):
            return wire.text(status.get("current_value"))
    return None


def _changed_at(conversation: Mapping[str, Any], what: str) -> datetime:
    """When the conversation last changed: ``updated_at`` (float seconds), else its last
    activity. Deliveries of one change share it; distinct changes do not."""
    for field in ("updated_at", "last_activity_at", "timestamp"):
        if conversation.get(field) is not None:
            return _moment(conversation[field], what)
    raise Malformed(f"{what} does not say when")


def _assignee(conversation: Mapping[str, Any]) -> str | None:
    """The agent the conversation went to (``meta.assignee``), never an agent bot."""
    meta = conversation.get("meta")
    if not isinstance(meta, dict) or meta.get("assignee_type") == "AgentBot":
        return None
    assignee = meta.get("assignee")
    if not isinstance(assignee, dict) or assignee.get("type") == "agent_bot":
        return None
    raw = assignee.get("id")
    return str(raw) if isinstance(raw, int | str) and not isinstance(raw, bool) and raw else None


# --- reading JSON -------------------------------------------------------------------------


def _identifier(value: object, what: str) -> str:
    """Chatwoot's ids are integers; a string of one is read too."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise Malformed(f"{what} is missing")


def _moment(value: object, what: str) -> datetime:
    """Message#webhook_data sends ``created_at`` as Rails renders a time in JSON
    (``2026-01-01T12:00:00.000Z``; very old versions ``2020-03-03 13:05:57 UTC``); push data
    sends Unix seconds (``updated_at`` as a float)."""
    seconds = wire.number(value)
    if seconds is None and isinstance(value, str) and value.strip().isdigit():
        seconds = float(value.strip())
    try:
        if seconds is not None:
            if not math.isfinite(seconds):
                raise ValueError
            return datetime.fromtimestamp(seconds, UTC)
        if isinstance(value, str):
            text = value.strip()
            text = text[:-4] + "+00:00" if text.endswith(" UTC") else text
            moment = datetime.fromisoformat(text)
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    except (OverflowError, OSError, ValueError):
        raise Malformed(f"{what} has an impossible time {value!r}") from None
    raise Malformed(f"{what} does not say when")
