"""WhatsApp through Meta's Cloud API (the Graph API): webhooks in, messages and media out.

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

Outbound errors. A Graph error (``{"error": {"message", "type", "code", "error_subcode",
"error_data": {"details"}, "fbtrace_id"}}``) about the message or its recipient (131047
outside the 24-hour window, 131026 undeliverable, 132xxx template errors, 100 invalid
parameter...) is a ``DeliveryRefused`` with Meta's code. HTTP 5xx and 429, throttling codes,
Meta's transient codes, timeouts and connection errors are ``ExternalServiceUnavailable``.
So are refusals of the business's own credentials or account (190 expired token, 10 and
2xx permissions, 131042 payment method...): an operator fixes them and the retried job then
goes out, rather than every message of the meantime failing for good; they are logged as
errors.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import attrs
import httpx

from adapters.channels import wire
from adapters.channels.wire import Notification, json_object, retry_after
from talia_core.conversations.errors import DeliveryRefused
from talia_core.conversations.model import (
    Channel,
    ChannelEvent,
    ChannelIdentity,
    DeliveryStatus,
    IdentityKind,
    InboundMessage,
    Location,
    MediaRef,
    MessageType,
    Sender,
    StatusUpdate,
)
from talia_core.conversations.ports import Download, Outbound
from talia_core.shared.errors import (
    ExternalServiceUnavailable,
    Malformed,
    NotFound,
    TaliaError,
)

logger = logging.getLogger("talia.whatsapp")

SERVICE = "whatsapp"
GRAPH_URL = "https://graph.facebook.com"
API_VERSION = "v25.0"
MAX_MEDIA_BYTES = 16 * 1024 * 1024

_OBJECT = "whatsapp_business_account"
_SIGNATURE_PREFIX = "sha256="
_API_VERSION = re.compile(r"v\d+\.\d+")
_MEDIA_ID = re.compile(r"[A-Za-z0-9_-]{1,200}")
_SHA256_HEX = re.compile(r"[0-9a-fA-F]{64}")

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
_OUTBOUND_MEDIA = {
    MessageType.IMAGE: "image",
    MessageType.VIDEO: "video",
    MessageType.AUDIO: "audio",
    MessageType.DOCUMENT: "document",
}

# Graph error codes worth retrying (Meta, "Error codes" of the Cloud API).
_THROTTLED = frozenset({4, 80007, 130429, 131048, 131056})
_TRANSIENT = frozenset({1, 2, 368, 131000, 131016, 131057})
# The business's credentials, permissions or account: an operator has to act.
_BUSINESS_SIDE = frozenset({0, 3, 10, 190, 131005, 131031, 131037, 131042, 131045})
# "Object with ID ... does not exist": a media id that expired or never was.
_NO_SUCH_OBJECT = 100


# --- webhooks ----------------------------------------------------------------------------


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
    return StatusUpdate(Channel.WHATSAPP, external_id, tracked, at, code, title)


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


# --- sending -----------------------------------------------------------------------------


class WhatsAppCloudChannelSender:
    """Sends through ``POST /{version}/{phone-number-id}/messages`` with a bearer token.

    A sender without a phone number id or token (WhatsApp not configured) answers every
    send as unavailable rather than failing at start: the container builds every channel.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        phone_number_id: str,
        access_token: str,
        base_url: str = GRAPH_URL,
        api_version: str = API_VERSION,
    ) -> None:
        api = _api_root(base_url, api_version)
        self._client = client
        self._configured = bool(phone_number_id and access_token)
        self._url = f"{api}/{quote(phone_number_id, safe='')}/messages"
        self._headers = {"Authorization": f"Bearer {access_token}"}

    async def send(self, message: Outbound) -> str:
        if not self._configured:
            logger.error("WhatsApp has no phone number id or access token configured")
            raise ExternalServiceUnavailable(SERVICE, "no phone number id or access token")
        payload = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            **_recipient(message.to),
            **_content_of(message),
        }
        try:
            response = await self._client.post(self._url, json=payload, headers=self._headers)
        except httpx.TimeoutException as error:
            raise ExternalServiceUnavailable(SERVICE, "sending timed out") from error
        except httpx.RequestError as error:
            raise ExternalServiceUnavailable(
                SERVICE, f"sending failed: {type(error).__name__}"
            ) from error
        if not response.is_success:
            raise _failure(response, "sending")
        answer = json_object(response) or {}
        messages = answer.get("messages")
        first = messages[0] if isinstance(messages, list) and messages else None
        external_id = wire.text(first.get("id")) if isinstance(first, dict) else None
        if external_id is None:
            raise ExternalServiceUnavailable(SERVICE, "the send was answered without a message id")
        return external_id

    async def hand_off(self, thread: str | None) -> None:
        """WhatsApp has no notion of a human taking over: nothing to tell it."""


def _recipient(to: ChannelIdentity) -> dict[str, str]:
    if to.kind is IdentityKind.WA_ID:
        return {"to": to.value}
    if to.kind is IdentityKind.BSUID:
        return {"recipient": to.value}
    raise DeliveryRefused(SERVICE, None, f"a {to.kind.value} identity is not a WhatsApp address")


def _content_of(message: Outbound) -> dict[str, Any]:
    kind = message.type
    if kind is MessageType.TEXT and message.text:
        return {"type": "text", "text": {"body": message.text}}
    if kind is MessageType.TEMPLATE and message.template is not None:
        template: dict[str, Any] = {
            "name": message.template.name,
            "language": {"code": message.template.language},
        }
        if message.template.parameters:
            parameters = [{"type": "text", "text": p} for p in message.template.parameters]
            template["components"] = [{"type": "body", "parameters": parameters}]
        return {"type": "template", "template": template}
    if kind in _OUTBOUND_MEDIA and message.media_url:
        name = _OUTBOUND_MEDIA[kind]
        media: dict[str, str] = {"link": message.media_url}
        if message.text and kind is not MessageType.AUDIO:  # audio takes no caption
            media["caption"] = message.text
        return {"type": name, name: media}
    if kind is MessageType.LOCATION and message.location is not None:
        place = message.location
        location: dict[str, Any] = {"latitude": place.latitude, "longitude": place.longitude}
        if place.name:
            location["name"] = place.name
        if place.address:
            location["address"] = place.address
        return {"type": "location", "location": location}
    raise DeliveryRefused(SERVICE, None, f"a {kind.value} message without its content")


# --- media -------------------------------------------------------------------------------


class WhatsAppCloudMediaDownloader:
    """Fetches an attachment by its media id in two steps, both with the bearer token:
    ``GET /{version}/{media-id}`` answers ``{url, mime_type, sha256, file_size, id}``, then
    ``GET {url}`` answers the bytes. The URL lives a few minutes, so any failure of the
    second step is worth retrying (the retry asks for a fresh URL).

    Media over ``max_bytes`` is refused as ``Malformed`` (retrying will not shrink it); an
    id the Graph API does not know (expired after 30 days, or never was) is ``NotFound``.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        access_token: str,
        base_url: str = GRAPH_URL,
        api_version: str = API_VERSION,
        max_bytes: int = MAX_MEDIA_BYTES,
    ) -> None:
        if max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        self._client = client
        self._api = _api_root(base_url, api_version)
        self._token = access_token
        self._headers = {"Authorization": f"Bearer {access_token}"}
        self._max_bytes = max_bytes

    async def download(self, reference: str) -> Download:
        if not _MEDIA_ID.fullmatch(reference):
            raise Malformed(f"{reference[:50]!r} is not a WhatsApp media id")
        if not self._token:
            logger.error("WhatsApp has no access token configured")
            raise ExternalServiceUnavailable(SERVICE, "no access token")
        info = await self._describe(reference)
        url = wire.text(info.get("url"))
        if url is None:
            raise ExternalServiceUnavailable(SERVICE, f"media {reference} came without its URL")
        size = info.get("file_size")
        if isinstance(size, str) and size.isdigit():
            size = int(size)
        if isinstance(size, int) and size > self._max_bytes:
            raise Malformed(f"media {reference} has {size} bytes, over {self._max_bytes}")
        content, content_type = await self._fetch(reference, url)
        expected = wire.text(info.get("sha256"))
        if expected is not None and _digest_matches(content, expected) is False:
            raise ExternalServiceUnavailable(
                SERVICE, f"media {reference} arrived damaged (sha256 mismatch)"
            )
        mime_type = wire.text(info.get("mime_type")) or content_type or "application/octet-stream"
        return Download(content, mime_type)

    async def _describe(self, reference: str) -> dict[str, Any]:
        try:
            response = await self._client.get(f"{self._api}/{reference}", headers=self._headers)
        except httpx.TimeoutException as error:
            raise ExternalServiceUnavailable(SERVICE, "the media lookup timed out") from error
        except httpx.RequestError as error:
            raise ExternalServiceUnavailable(
                SERVICE, f"the media lookup failed: {type(error).__name__}"
            ) from error
        if not response.is_success:
            error_code = _graph_code(response)
            if response.status_code < 500 and error_code == _NO_SUCH_OBJECT:
                raise NotFound("WhatsApp media", reference)
            failure = _failure(response, "the media lookup")
            if isinstance(failure, DeliveryRefused):
                failure = ExternalServiceUnavailable(SERVICE, f"the media lookup: {failure.title}")
            raise failure
        info = json_object(response)
        if info is None:
            raise ExternalServiceUnavailable(SERVICE, "the media lookup answered no JSON object")
        return info

    async def _fetch(self, reference: str, url: str) -> tuple[bytes, str | None]:
        try:
            async with self._client.stream(
                "GET", url, headers=self._headers, follow_redirects=True
            ) as response:
                if response.status_code != 200:
                    raise ExternalServiceUnavailable(
                        SERVICE, f"media {reference} answered HTTP {response.status_code}"
                    )
                content = await wire.limited_body(response, self._max_bytes, f"media {reference}")
                content_type = response.headers.get("content-type")
        except httpx.TimeoutException as error:
            raise ExternalServiceUnavailable(SERVICE, f"media {reference} timed out") from error
        except httpx.RequestError as error:
            raise ExternalServiceUnavailable(
                SERVICE, f"media {reference} failed: {type(error).__name__}"
            ) from error
        return content, content_type


def _digest_matches(content: bytes, expected: str) -> bool | None:
    """Compare with Meta's sha256, given as hex or base64; None when it is neither."""
    digest = hashlib.sha256(content).digest()
    if _SHA256_HEX.fullmatch(expected):
        return hmac.compare_digest(expected.lower(), digest.hex())
    for decode in (base64.b64decode, base64.urlsafe_b64decode):
        try:
            decoded = decode(expected.encode())
        except (binascii.Error, ValueError):
            continue
        if len(decoded) == len(digest):
            return hmac.compare_digest(decoded, digest)
    return None


# --- Graph API answers -------------------------------------------------------------------


def _api_root(base_url: str, api_version: str) -> str:
    if not base_url.startswith(("https://", "http://")):
        raise ValueError("the Graph API base URL must start with https://")
    if not _API_VERSION.fullmatch(api_version):
        raise ValueError(f"a Graph API version looks like v25.0, not {api_version!r}")
    return f"{base_url.rstrip('/')}/{api_version}"


def _graph_error(response: httpx.Response) -> dict[str, Any] | None:
    body = json_object(response)
    error = body.get("error") if body is not None else None
    return error if isinstance(error, dict) else None


def _graph_code(response: httpx.Response) -> int | None:
    error = _graph_error(response)
    code = error.get("code") if error is not None else None
    return code if isinstance(code, int) and not isinstance(code, bool) else None


def _failure(response: httpx.Response, action: str) -> TaliaError:
    """What a non-2xx answer means: a refusal of this message, or a reason to come back."""
    status = response.status_code
    error = _graph_error(response)
    code = _graph_code(response)
    described = _describe_error(error) if error is not None else f"HTTP {status}"
    if status == 429 or status >= 500 or code in _THROTTLED or code in _TRANSIENT:
        return ExternalServiceUnavailable(
            SERVICE,
            f"{action} answered HTTP {status}: {described}",
            retry_after_seconds=retry_after(response),
        )
    if code is not None and (code in _BUSINESS_SIDE or 200 <= code < 300):
        logger.error(
            "the Graph API refused the business's credentials or account (%s, code %s): %s",
            action,
            code,
            described,
        )
        return ExternalServiceUnavailable(SERVICE, f"{action} was refused: {described}")
    if error is None:
        logger.error("the Graph API answered HTTP %s without an error on %s", status, action)
        return ExternalServiceUnavailable(SERVICE, f"{action} answered HTTP {status}")
    return DeliveryRefused(SERVICE, str(code) if code is not None else None, described)


def _describe_error(error: Mapping[str, Any]) -> str:
    """Meta's message without its "(#code) " prefix, and the details when they add any."""
    message = re.sub(r"^\(#\d+\)\s*", "", wire.text(error.get("message")) or "")
    data = error.get("error_data")
    details = wire.text(data.get("details")) if isinstance(data, dict) else None
    if details and details != message:
        return f"{message}: {details}" if message else details
    return message or "no message"
