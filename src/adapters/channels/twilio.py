"""WhatsApp through Twilio: webhook signatures and parsing, the Messages API, media downloads.

Inbound   Twilio POSTs ``application/x-www-form-urlencoded`` to our webhook and signs it
          ``X-Twilio-Signature``: base64 HMAC-SHA1, keyed by the account's auth token, of the
          URL Twilio called followed by every POST parameter's name and value, sorted by name
          (https://www.twilio.com/docs/usage/webhooks/webhooks-security).
          ``signature_valid`` checks it the way ``twilio.request_validator.RequestValidator``
          does; ``parse_message`` and ``parse_status`` read the incoming-message webhook and
          the status callback.
Outbound  POST {base}/2010-04-01/Accounts/{AccountSid}/Messages.json, HTTP Basic
          AccountSid:AuthToken, form fields To, From, Body, MediaUrl, StatusCallback, or
          ContentSid + ContentVariables for a template (Content API) -> 201 with the Message
          resource as JSON, whose ``sid`` names it; a refusal is Twilio's error JSON
          ``{"code": 21211, "message": ..., "more_info": ..., "status": 400}``.
Media     ``MediaUrl{N}`` points at api.twilio.com (HTTP Basic, when the account enforces it),
          which redirects to a CDN URL that needs no credentials.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import logging
import math
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import ParseResult, parse_qsl, urlparse

import httpx

from adapters.channels.wire import json_object, limited_body, retry_after
from talia_core.conversations.errors import DeliveryRefused
from talia_core.conversations.model import (
    Channel,
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
from talia_core.shared.errors import ExternalServiceUnavailable, Malformed, NotFound

logger = logging.getLogger("talia.twilio")

SERVICE = "twilio"
MAX_MEDIA_BYTES = 16 * 1024 * 1024
MAX_FORM_FIELDS = 1000
_MAX_REDIRECTS = 5
_MAX_ERROR_TEXT = 500
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_DEFAULT_PORTS = {"https": 443, "http": 80}

# --- webhook signatures ----------------------------------------------------------------


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


# --- webhook payloads --------------------------------------------------------------------


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


# --- sending -----------------------------------------------------------------------------


class TwilioChannelSender:
    """Sends WhatsApp messages through Twilio's Messages API.

    A template is a Content API template: ``Template.name`` is its ``ContentSid``
    (HX...), its parameters become ``ContentVariables`` ``{"1": ..., "2": ...}``; the
    language is the template's own. Built even when Twilio is not configured (the
    container makes every channel): sending then fails as unavailable, before any call.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        account_sid: str,
        auth_token: str,
        from_address: str,
        status_callback_url: str | None = None,
        base_url: str = "https://api.twilio.com",
    ) -> None:
        if not base_url.startswith(("https://", "http://")):
            raise ValueError("the Twilio API URL must start with https://")
        self._client = client
        self._configured = bool(account_sid and auth_token and from_address)
        self._url = f"{base_url.rstrip('/')}/2010-04-01/Accounts/{account_sid}/Messages.json"
        self._auth = httpx.BasicAuth(account_sid, auth_token)
        self._from = from_address
        self._status_callback = status_callback_url

    async def send(self, message: Outbound) -> str:
        if not self._configured:
            raise ExternalServiceUnavailable(SERVICE, "Twilio is not configured")
        form = self._form(message)
        try:
            response = await self._client.post(
                self._url, data=form, auth=self._auth, follow_redirects=False
            )
        except httpx.TimeoutException as error:
            raise ExternalServiceUnavailable(SERVICE, "sending timed out") from error
        except httpx.RequestError as error:
            raise ExternalServiceUnavailable(
                SERVICE, f"sending failed: {type(error).__name__}"
            ) from error
        answer = json_object(response)
        if response.status_code in (200, 201):
            sid = answer.get("sid") if answer is not None else None
            if not isinstance(sid, str) or not sid:
                raise ExternalServiceUnavailable(SERVICE, "Twilio answered without a message sid")
            return sid
        raise _send_failure(response, answer)

    async def hand_off(self, thread: str | None) -> None:
        """WhatsApp through Twilio has no notion of a human taking over."""

    def _form(self, message: Outbound) -> dict[str, str]:
        if message.to.kind is not IdentityKind.TWILIO_ADDRESS:
            raise DeliveryRefused(SERVICE, None, f"cannot send to a {message.to.kind} identity")
        form = {"To": message.to.value, "From": self._from}
        if message.template is not None:
            form["ContentSid"] = message.template.name
            if message.template.parameters:
                variables = {str(i): p for i, p in enumerate(message.template.parameters, 1)}
                form["ContentVariables"] = json.dumps(variables, ensure_ascii=False)
        elif message.media_url:
            form["MediaUrl"] = message.media_url
            if message.text:
                form["Body"] = message.text
        elif message.text:
            form["Body"] = message.text
        else:
            raise DeliveryRefused(
                SERVICE, None, f"Twilio sends text, media or a template, not {message.type}"
            )
        if self._status_callback:
            form["StatusCallback"] = self._status_callback
        return form


def _send_failure(response: httpx.Response, answer: dict[str, Any] | None) -> Exception:
    status = response.status_code
    code = answer.get("code") if answer is not None else None
    text = answer.get("message") if answer is not None else None
    if status in (401, 403, 404):
        # 20003 Authenticate, 20404 for an account SID that does not exist: our
        # configuration, not the message, so the message waits instead of failing.
        logger.error(
            "Twilio refused the account (HTTP %s, code %s): check the account SID and the "
            "auth token",
            status,
            code,
        )
        return ExternalServiceUnavailable(SERVICE, f"the account was refused (HTTP {status})")
    if status == 429 or status >= 500:
        return ExternalServiceUnavailable(
            SERVICE, f"Twilio answered HTTP {status}", retry_after_seconds=retry_after(response)
        )
    if 400 <= status < 500 and isinstance(text, str) and text:
        return DeliveryRefused(
            SERVICE,
            str(code) if isinstance(code, int | str) and str(code) else None,
            text[:_MAX_ERROR_TEXT],
        )
    logger.error("Twilio answered HTTP %s without an error Twilio documents", status)
    return ExternalServiceUnavailable(SERVICE, f"unreadable answer (HTTP {status})")


# --- media ------------------------------------------------------------------------------


class TwilioMediaDownloader:
    """Fetches a ``MediaUrl`` of an incoming message.

    The account's credentials go only on the first request, and only when the URL is
    ``https`` on an allowed host: an entry of ``allowed_hosts`` matches that host exactly,
    and an entry starting with a dot (``.twilio.com``) matches any host below it. Any other
    URL is refused (``Malformed``) without a request. The redirect Twilio answers with (to
    its CDN) is followed here, hop by hop, without credentials; redirect targets must be
    ``https`` too.

    ``loopback_http`` lets ``http://`` reach loopback addresses, for local test servers;
    production leaves it off.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        account_sid: str,
        auth_token: str,
        allowed_hosts: Collection[str] = ("api.twilio.com",),
        max_bytes: int = MAX_MEDIA_BYTES,
        loopback_http: bool = False,
    ) -> None:
        if max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        self._client = client
        self._configured = bool(account_sid and auth_token)
        self._auth = httpx.BasicAuth(account_sid, auth_token)
        self._allowed = tuple(host.lower() for host in allowed_hosts)
        self._max_bytes = max_bytes
        self._loopback_http = loopback_http

    async def download(self, reference: str) -> Download:
        url = self._url(reference)
        if not self._host_allowed(url.host):
            raise Malformed(f"media at {url.host!r} is not on a Twilio host")
        if not self._configured:
            raise ExternalServiceUnavailable(SERVICE, "Twilio is not configured")
        auth: httpx.Auth | None = self._auth
        for _ in range(_MAX_REDIRECTS + 1):
            location = await self._get(url, auth, reference)
            if isinstance(location, Download):
                return location
            url, auth = self._url(str(location)), None
        raise ExternalServiceUnavailable(SERVICE, "the media URL redirected too many times")

    async def _get(
        self, url: httpx.URL, auth: httpx.Auth | None, reference: str
    ) -> Download | httpx.URL:
        """The media, or where it moved to."""
        try:
            async with self._client.stream(
                "GET", url, auth=auth, follow_redirects=False
            ) as response:
                status = response.status_code
                if status in _REDIRECTS:
                    target = response.headers.get("location")
                    if not target:
                        raise ExternalServiceUnavailable(SERVICE, "a redirect without Location")
                    return url.join(target)
                if status in (404, 410):
                    raise NotFound("twilio media", reference)
                if status != 200:
                    if status in (401, 403) and auth is not None:
                        logger.error("Twilio refused the account's credentials for media")
                    raise ExternalServiceUnavailable(
                        SERVICE,
                        f"media answered HTTP {status}",
                        retry_after_seconds=retry_after(response),
                    )
                content = await limited_body(response, self._max_bytes, "the attachment")
                mime_type = response.headers.get("content-type", "").strip()
                return Download(content, mime_type or "application/octet-stream")
        except httpx.TimeoutException as error:
            raise ExternalServiceUnavailable(SERVICE, "the media download timed out") from error
        except httpx.RequestError as error:
            raise ExternalServiceUnavailable(
                SERVICE, f"the media download failed: {type(error).__name__}"
            ) from error

    def _url(self, reference: str) -> httpx.URL:
        try:
            url = httpx.URL(reference)
        except httpx.InvalidURL:
            raise Malformed("the media reference is not a URL") from None
        if url.userinfo:
            raise Malformed("a media URL must not carry credentials")
        secure = url.scheme == "https"
        if not url.host or not (secure or (url.scheme == "http" and self._loopback(url.host))):
            raise Malformed("a media URL must be https")
        return url

    def _loopback(self, host: str) -> bool:
        if not self._loopback_http:
            return False
        if host == "localhost":
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False

    def _host_allowed(self, host: str) -> bool:
        host = host.lower()
        return any(
            host.endswith(entry) if entry.startswith(".") else host == entry
            for entry in self._allowed
        )


# --- answers ----------------------------------------------------------------------------
