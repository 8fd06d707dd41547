"""Attachments in: the ``MediaUrl`` of an incoming message, through Twilio to its CDN."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Collection

import httpx

from adapters.channels.twilio import SERVICE
from adapters.channels.wire import limited_body, retry_after
from talia_core.shared.errors import ExternalServiceUnavailable, Malformed, NotFound
from talia_core.shared.files import Download

logger = logging.getLogger("talia.twilio")

MAX_MEDIA_BYTES = 16 * 1024 * 1024
_MAX_REDIRECTS = 5
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


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
