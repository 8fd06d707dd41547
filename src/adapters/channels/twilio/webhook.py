"""Twilio's webhooks: their ``X-Twilio-Signature``, the incoming-message webhook and the
status callback, both ``application/x-www-form-urlencoded``."""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
from collections.abc import Sequence
from datetime import datetime
from urllib.parse import ParseResult, parse_qsl, urlparse

from talia_core.conversations.events import (
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

MAX_FORM_FIELDS = 1000
_DEFAULT_PORTS = {"https": 443, "http": 80}


# --- signatures -------------------------------------------------------------------------


def public_url(base_url: str, path: str, query: str) -> str:
    """The URL Twilio called, as Twilio saw it: the public base (behind a proxy, the one
    configured) plus the request's raw path and query string."""
    url = base_url.rstrip("/") + path
    return f"{url}?{query}" if query else url


def request_signature(url: str, params: Sequence[tuple[str, str]], auth_token: str) -> str:
    """``X-Twilio-Signature`` for a form POST to ``url``.

    As Twilio's ``RequestValidator.compute_signature``: names in code-point order, and for
    a name sent several times its distinct values in order, each appended as name + value.
    """
    values: dict[str, set[str]] = {}
    for name, value in params:
        values.setdefault(name, set()).add(value)
    signed = url + "".join(
        name + value for name in sorted(values) for value in sorted(values[name])
    )
    digest = hmac.new(auth_token.encode(), signed.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def signature_valid(
    url: str, params: Sequence[tuple[str, str]], header: str | None, auth_token: str
) -> bool:
    """Whether ``header`` signs this request, with the URL's port left out or spelled out.

    Twilio's back end is not consistent about the default port (``https://host/x`` or
    ``https://host:443/x``), so, like ``RequestValidator.validate``, both spellings count.
    """
    if not header or not auth_token:
        return False
    try:
        candidates = _with_and_without_port(url)
    except ValueError:
        return False
    expected = header.strip().encode()
    return any(
        hmac.compare_digest(request_signature(candidate, params, auth_token).encode(), expected)
        for candidate in candidates
    )


def _with_and_without_port(url: str) -> tuple[str, str]:
    parsed = urlparse(url)
    port = parsed.port  # ValueError for a port that is not a number in range
    host = parsed.netloc.rpartition("@")[2]
    userinfo = parsed.netloc[: len(parsed.netloc) - len(host)]
    bare_host = host.rsplit(":", 1)[0] if port is not None else host
    without = _replace_netloc(parsed, userinfo + bare_host)
    default = _DEFAULT_PORTS["https" if parsed.scheme == "https" else "http"]
    with_port = _replace_netloc(parsed, f"{userinfo}{bare_host}:{port or default}")
    return without, with_port


def _replace_netloc(parsed: ParseResult, netloc: str) -> str:
    return parsed._replace(netloc=netloc).geturl()


# --- payloads ---------------------------------------------------------------------------


def parse_form(body: bytes) -> list[tuple[str, str]]:
    """An ``application/x-www-form-urlencoded`` body, strictly: UTF-8, every field ``k=v``."""
    try:
        text = body.decode("utf-8")
        return parse_qsl(
            text,
            keep_blank_values=True,
            strict_parsing=True,
            encoding="utf-8",
            errors="strict",
            max_num_fields=MAX_FORM_FIELDS,
        )
    except ValueError:  # UnicodeDecodeError included
        raise Malformed("the Twilio webhook is not a UTF-8 form of name=value fields") from None


_MEDIA_TYPES = {
    "image": MessageType.IMAGE,
    "audio": MessageType.AUDIO,
    "video": MessageType.VIDEO,
}
_INTERACTIVE = frozenset({"button", "interactive"})


def parse_message(params: Sequence[tuple[str, str]], *, received_at: datetime) -> InboundMessage:
    """Twilio's incoming-message webhook for WhatsApp as an ``InboundMessage``.

    Twilio sends no timestamp with an incoming message, so ``sent_at`` is ``received_at``.
    ``MessageType`` (text, image, audio, video, document, location, button, interactive,
    sticker, contacts, reaction, unknown...) is kept as ``raw_type``; the content decides
    the type: coordinates make a location, a button reply is interactive, an attachment is
    typed by its content type (WhatsApp sends one per message; only ``MediaUrl0`` is read),
    a body alone is text; anything else is unsupported.
    """
    fields = _fields(params)
    sid, address = fields.get("MessageSid", ""), fields.get("From", "")
    if not sid or not address:
        raise Malformed("a Twilio message needs MessageSid and From")
    sender = Sender(
        identities=(ChannelIdentity.of(IdentityKind.TWILIO_ADDRESS, address),),
        name=fields.get("ProfileName") or None,
        phone=fields.get("WaId") or None,
    )
    raw_type = fields.get("MessageType") or None
    body = fields.get("Body") or None
    kind, text = MessageType.UNSUPPORTED, body
    location = _location(fields)
    media = _media(fields)
    button = fields.get("ButtonText") or fields.get("ButtonPayload")
    if location is not None:
        kind = MessageType.LOCATION
    elif button or raw_type in _INTERACTIVE:
        kind, text = MessageType.INTERACTIVE, fields.get("ButtonText") or body or button
    elif media is not None:
        major = (media.mime_type or "").partition("/")[0].lower()
        kind = _MEDIA_TYPES.get(major, MessageType.DOCUMENT)
    elif raw_type in (None, "text") and body is not None:
        kind = MessageType.TEXT
    return InboundMessage(
        channel=Channel.TWILIO,
        external_id=sid,
        sender=sender,
        type=kind,
        sent_at=received_at,
        text=text,
        media=media,
        location=location,
        raw_type=raw_type,
    )


_STATUSES = {
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.READ,
    "failed": DeliveryStatus.FAILED,
    "undelivered": DeliveryStatus.FAILED,
}


def parse_status(
    params: Sequence[tuple[str, str]], *, received_at: datetime
) -> StatusUpdate | None:
    """Twilio's status callback as a ``StatusUpdate``; ``None`` for a status not tracked.

    Not tracked: ``queued``, ``sending``, ``accepted`` and ``scheduled`` come before Twilio
    hands the message to WhatsApp and say nothing the send did not, and statuses Twilio may
    add later are left alone rather than refused (Twilio retries a refused callback).

    A status callback carries no time of its own: Twilio documents ``MessageStatus`` and
    ``ErrorCode`` on top of the usual parameters, and ``RawDlrDoneDate`` only comes with
    SMS/MMS delivery receipts (a carrier's minute, without a time zone). So ``at`` is
    ``received_at``. ``ErrorMessage`` is read when Twilio includes it.
    """
    fields = _fields(params)
    sid, status = fields.get("MessageSid", ""), fields.get("MessageStatus", "")
    if not sid or not status:
        raise Malformed("a Twilio status callback needs MessageSid and MessageStatus")
    tracked = _STATUSES.get(status.lower())
    if tracked is None:
        return None
    failed = tracked is DeliveryStatus.FAILED
    return StatusUpdate(
        channel=Channel.TWILIO,
        external_id=sid,
        status=tracked,
        at=received_at,
        error_code=(fields.get("ErrorCode") or None) if failed else None,
        error_title=(fields.get("ErrorMessage") or None) if failed else None,
    )


def _fields(params: Sequence[tuple[str, str]]) -> dict[str, str]:
    """The first value of each name (Twilio sends each once)."""
    fields: dict[str, str] = {}
    for name, value in params:
        fields.setdefault(name, value)
    return fields


def _location(fields: dict[str, str]) -> Location | None:
    latitude, longitude = fields.get("Latitude"), fields.get("Longitude")
    if not latitude and not longitude:
        return None
    try:
        lat, lon = float(latitude or ""), float(longitude or "")
    except ValueError:
        raise Malformed("a Twilio location needs numeric Latitude and Longitude") from None
    if not (math.isfinite(lat) and math.isfinite(lon) and abs(lat) <= 90 and abs(lon) <= 180):
        raise Malformed("a Twilio location has coordinates out of range")
    return Location(
        lat, lon, name=fields.get("Label") or None, address=fields.get("Address") or None
    )


def _media(fields: dict[str, str]) -> MediaRef | None:
    count = fields.get("NumMedia") or "0"
    if not count.isdigit():
        raise Malformed(f"NumMedia {count!r} is not a count")
    if int(count) == 0:
        return None
    url = fields.get("MediaUrl0")
    if not url:
        raise Malformed(f"NumMedia is {count} but MediaUrl0 is missing")
    return MediaRef(reference=url, mime_type=fields.get("MediaContentType0") or None)
