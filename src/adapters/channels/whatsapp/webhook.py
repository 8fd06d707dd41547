"""Meta's webhooks for WhatsApp: their signature, the subscription handshake, notifications.

Inbound, called by the webhook route on the raw request:

- ``signature_valid``: ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>``, keyed
  with the app secret.
- ``subscription_challenge``: the GET handshake (``hub.mode``, ``hub.verify_token``,
  ``hub.challenge``) Meta runs when the webhook URL is registered.
- ``parse_notification``: a ``whatsapp_business_account`` notification as channel events.

What ``parse_notification`` refuses and what it skips. Meta retries every non-200 answer for
days, so only a body we cannot trust at all is refused: not JSON, not a
``whatsapp_business_account`` object, or broken in a part we need to store an event (``entry``
or ``changes`` that are not lists, a ``messages`` change without its ``value``, a message or
status without its id or Unix timestamp, a message without any sender id). That raises
``Malformed``: the route answers 400 and nothing is stored. Everything well-formed that we do
not handle is skipped with a human-readable reason in ``Notification.ignored`` and the route
answers 200: change fields other than ``messages`` (``account_update``, template updates...),
reactions, statuses we do not track (``played``...), value-level ``errors``.

Message types. ``text``; ``image``, ``video``, ``audio``, ``document`` (its ``filename`` kept)
and ``sticker`` (an IMAGE: it is a webp picture, downloaded like any image; ``raw_type``
says it was a sticker) as a ``MediaRef`` to the Cloud API media id, their caption as the
text; ``location``; ``interactive`` replies (``button_reply``, ``list_reply``) and ``button``
(a template's quick reply) as INTERACTIVE with the title the customer tapped as the text: the
reply id is ours (set when the button was sent), so it says nothing the title does not.
Everything else (``unsupported``, ``contacts``, ``order``, ``system``, unknown types, or a
known type whose content cannot be read) is stored as UNSUPPORTED with the provider's type in
``raw_type``, never a crash.

Senders and business-scoped user ids. Since April 2026 Meta adds a business-scoped user id
(BSUID, like ``US.13491208655302741918``) to messages webhooks: ``contacts[].user_id`` (and
``parent_user_id`` for linked portfolios, not kept here) and ``messages[].from_user_id``. A
user who adopted a username may come with no phone number at all: no ``contacts[].wa_id`` and
no ``messages[].from``. The sender carries every id present (``WA_ID`` and ``BSUID``), its
profile name, and the wa_id as its phone. To send to a BSUID the request names it in
``recipient`` instead of ``to`` (Meta, "Business-scoped user IDs"; the same shapes in pywa's
2026 test payloads and ``resolve_recipient``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import attrs

from adapters.channels import wire
from adapters.channels.wire import Notification
from talia_core.conversations.events import (
    ChannelEvent,
    InboundMessage,
    Location,
    MediaRef,
    Sender,
    StatusUpdate,
)
from talia_core.conversations.vocabulary import (
    Channel,
    ChannelIdentity,
    DeliveryStatus,
    IdentityKind,
    MessageType,
)
from talia_core.shared.errors import Malformed

_OBJECT = "whatsapp_business_account"
_SIGNATURE_PREFIX = "sha256="

_STATUSES = {
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.READ,
    "failed": DeliveryStatus.FAILED,
}
_MEDIA_TYPES = {
    "image": MessageType.IMAGE,
    "sticker": MessageType.IMAGE,
    "video": MessageType.VIDEO,
    "audio": MessageType.AUDIO,
    "document": MessageType.DOCUMENT,
}
_REPLIES = ("button_reply", "list_reply")  # the interactive replies we read


def signature_valid(app_secret: bytes, body: bytes, header: str | None) -> bool:
    """Whether ``X-Hub-Signature-256`` signs exactly these bytes with the app secret."""
    if not app_secret or not header:
        return False
    value = header.strip()
    if not value.startswith(_SIGNATURE_PREFIX) or not value.isascii():
        return False
    given = value[len(_SIGNATURE_PREFIX) :].lower()
    expected = hmac.new(app_secret, body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, given)


def subscription_challenge(
    mode: str | None, token: str | None, challenge: str | None, verify_token: str
) -> str | None:
    """The challenge to echo when Meta subscribes with our verify token; None to refuse."""
    if mode != "subscribe" or not token or not challenge or not verify_token:
        return None
    given, expected = token.encode(errors="surrogatepass"), verify_token.encode()
    if not hmac.compare_digest(given, expected):
        return None
    return challenge


def parse_notification(body: bytes) -> Notification:
    """Read a Cloud API notification; ``Malformed`` when it cannot be trusted at all."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        raise Malformed("the WhatsApp notification is not JSON") from None
    root = wire.json_dict(document, "the notification")
    if root.get("object") != _OBJECT:
        raise Malformed(f"the notification is not about a {_OBJECT}")
    events: list[ChannelEvent] = []
    ignored: list[str] = []
    for raw_entry in _required_list(root.get("entry"), "entry"):
        entry = wire.json_dict(raw_entry, "an entry")
        for raw_change in _required_list(entry.get("changes"), "an entry's changes"):
            change = wire.json_dict(raw_change, "a change")
            field = change.get("field")
            if field != "messages":
                ignored.append(f"field {field!r} is not handled")
                continue
            _read_value(
                wire.json_dict(change.get("value"), "a messages change's value"), events, ignored
            )
    return Notification(events, ignored)


def _read_value(value: Mapping[str, Any], events: list[ChannelEvent], ignored: list[str]) -> None:
    contacts = [
        wire.json_dict(c, "a contact")
        for c in wire.optional_list(value.get("contacts"), "contacts")
    ]
    for raw in wire.optional_list(value.get("messages"), "messages"):
        read = _message(wire.json_dict(raw, "a message"), contacts)
        if isinstance(read, str):
            ignored.append(read)
        else:
            events.append(read)
    for raw in wire.optional_list(value.get("statuses"), "statuses"):
        status = _status(wire.json_dict(raw, "a status"))
        if isinstance(status, str):
            ignored.append(status)
        else:
            events.append(status)
    for raw in wire.optional_list(value.get("errors"), "errors"):
        error = raw if isinstance(raw, dict) else {}
        ignored.append(f"error {error.get('code')}: {error.get('title') or error.get('message')}")


@attrs.frozen
class _Content:
    type: MessageType
    text: str | None = None
    media: MediaRef | None = None
    location: Location | None = None


def _message(message: Mapping[str, Any], contacts: list[dict[str, Any]]) -> InboundMessage | str:
    """The message, or why it is skipped."""
    external_id = _required_text(message.get("id"), "a message's id")
    sent_at = _moment(message.get("timestamp"), f"message {external_id}")
    kind = wire.text(message.get("type"))
    if kind == "reaction":
        return f"reaction {external_id} is not stored"
    sender = _sender(message, contacts, external_id)
    content = _content(kind, message) or _Content(MessageType.UNSUPPORTED)
    return InboundMessage(
        channel=Channel.WHATSAPP,
        external_id=external_id,
        sender=sender,
        type=content.type,
        sent_at=sent_at,
        text=content.text,
        media=content.media,
        location=content.location,
        raw_type=kind,
    )


def _content(kind: str | None, message: Mapping[str, Any]) -> _Content | None:
    """What the message says, or None when its type is not handled or cannot be read."""
    if kind is None:
        return None
    body = message.get(kind)
    if not isinstance(body, dict):
        return None
    if kind == "text":
        text = wire.text(body.get("body"))
        return _Content(MessageType.TEXT, text) if text else None
    if kind in _MEDIA_TYPES:
        media_id = wire.text(body.get("id"))
        if media_id is None:
            return None
        filename = wire.text(body.get("filename")) if kind == "document" else None
        media = MediaRef(media_id, wire.text(body.get("mime_type")), filename)
        return _Content(_MEDIA_TYPES[kind], wire.text(body.get("caption")), media)
    if kind == "location":
        location = _location(body)
        return _Content(MessageType.LOCATION, location=location) if location else None
    if kind == "interactive":
        reply = body.get(body.get("type")) if body.get("type") in _REPLIES else None
        title = wire.text(reply.get("title")) if isinstance(reply, dict) else None
        return _Content(MessageType.INTERACTIVE, title) if title else None
    if kind == "button":
        text = wire.text(body.get("text"))
        return _Content(MessageType.INTERACTIVE, text) if text else None
    return None


def _location(body: Mapping[str, Any]) -> Location | None:
    latitude, longitude = wire.number(body.get("latitude")), wire.number(body.get("longitude"))
    if latitude is None or longitude is None:
        return None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None  # also NaN, which Python's JSON reader lets through
    return Location(
        latitude, longitude, wire.text(body.get("name")), wire.text(body.get("address"))
    )


def _sender(message: Mapping[str, Any], contacts: list[dict[str, Any]], external_id: str) -> Sender:
    wa_id = wire.text(message.get("from"))
    bsuid = wire.text(message.get("from_user_id"))
    contact = _contact_of(wa_id, bsuid, contacts)
    name = None
    if contact is not None:
        wa_id = wa_id or wire.text(contact.get("wa_id"))
        bsuid = bsuid or wire.text(contact.get("user_id"))
        profile = contact.get("profile")
        name = wire.text(profile.get("name")) if isinstance(profile, dict) else None
    identities = []
    if wa_id:
        identities.append(ChannelIdentity.of(IdentityKind.WA_ID, wa_id))
    if bsuid:
        identities.append(ChannelIdentity.of(IdentityKind.BSUID, bsuid))
    if not identities:
        raise Malformed(f"message {external_id} names no sender")
    return Sender(tuple(identities), name=name, phone=wa_id)


def _contact_of(
    wa_id: str | None, bsuid: str | None, contacts: list[dict[str, Any]]
) -> dict[str, Any] | None:
    """The contact entry describing the sender: one sharing an id, else the only one there
    is, as long as it names nobody else."""
    for contact in contacts:
        if (wa_id and contact.get("wa_id") == wa_id) or (bsuid and contact.get("user_id") == bsuid):
            return contact
    if len(contacts) != 1:
        return None
    [contact] = contacts
    if (wa_id and contact.get("wa_id")) or (bsuid and contact.get("user_id")):
        return None  # it names another person
    return contact


def _status(status: Mapping[str, Any]) -> StatusUpdate | str:
    external_id = _required_text(status.get("id"), "a status's message id")
    name = status.get("status")
    tracked = _STATUSES.get(name) if isinstance(name, str) else None
    if tracked is None:
        return f"status {name!r} of {external_id} is not tracked"
    at = _moment(status.get("timestamp"), f"status of {external_id}")
    code = title = None
    if tracked is DeliveryStatus.FAILED:
        errors = wire.optional_list(status.get("errors"), "a status's errors")
        first = errors[0] if errors and isinstance(errors[0], dict) else {}
        raw_code = first.get("code")
        code = str(raw_code) if isinstance(raw_code, int | str) and raw_code != "" else None
        title = wire.text(first.get("title")) or wire.text(first.get("message"))
    ours = wire.text(status.get("biz_opaque_callback_data"))  # what the sender sent with it
    return StatusUpdate(Channel.WHATSAPP, external_id, tracked, at, code, title, ours)


# --- reading JSON ------------------------------------------------------------------------


def _required_list(value: object, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise Malformed(f"{what} is missing or not a list")
    return value


def _required_text(value: object, what: str) -> str:
    text = wire.text(value)
    if text is None:
        raise Malformed(f"{what} is missing")
    return text


def _moment(value: object, what: str) -> datetime:
    """A Unix timestamp in seconds, which Meta sends as a string of digits."""
    seconds = value if isinstance(value, int) and not isinstance(value, bool) else None
    if isinstance(value, str) and value.isascii() and value.isdigit():
        seconds = int(value)
    if seconds is None:
        raise Malformed(f"{what} has no Unix timestamp")
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise Malformed(f"{what} has an impossible timestamp") from None
