"""Attachments in: an attachment's ``data_url`` on Chatwoot's own origin."""

from __future__ import annotations

from collections.abc import Collection

import httpx

from adapters.channels import wire
from adapters.channels.chatwoot.api import SERVICE, api_url
from adapters.channels.wire import retry_after
from talia_core.shared.errors import ExternalServiceUnavailable, Malformed, NotFound
from talia_core.shared.files import Download

MAX_MEDIA_BYTES = 16 * 1024 * 1024

_MAX_REDIRECTS = 5
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_DEFAULT_PORTS = {"https": 443, "http": 80}


class ChatwootMediaDownloader:
    """Fetches an attachment's ``data_url``, with no credentials.

    Only a URL on Chatwoot's own origin (scheme, host and port of ``base_url``) or on one of
    ``allowed_origins`` is fetched; anything else is refused (``Malformed``) without a
    request, so a forged or mistaken reference cannot make Talia fetch arbitrary URLs. The
    ``data_url`` is an Active Storage blob URL on Chatwoot's ``FRONTEND_URL``, which
    redirects to wherever Chatwoot keeps its files (its disk, S3, GCS...): those redirects
    are followed to any http(s) URL, as Chatwoot chose them. ``allowed_origins`` is for a
    ``FRONTEND_URL`` that differs from the URL Talia calls the API on (``https://chat.example.com``
    outside, ``http://chatwoot:3000`` inside), or a storage host that serves URLs directly.

    A file gone (404, 410) is ``NotFound``; one over ``max_bytes`` is ``Malformed``.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        base_url: str,
        allowed_origins: Collection[str] = (),
        max_bytes: int = MAX_MEDIA_BYTES,
    ) -> None:
        if max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        origins = [base_url] if base_url else []
        self._client = client
        self._origins = frozenset(_origin(api_url(o)) for o in [*origins, *allowed_origins])
        self._max_bytes = max_bytes

    async def download(self, reference: str) -> Download:
        url = _media_url(reference)
        if _origin(url) not in self._origins:
            raise Malformed(f"media at {url.host!r} is not on Chatwoot's origin")
        for _ in range(_MAX_REDIRECTS + 1):
            answer = await self._get(url, reference)
            if isinstance(answer, Download):
                return answer
            url = _media_url(str(answer))
        raise ExternalServiceUnavailable(SERVICE, "the media URL redirected too many times")

    async def _get(self, url: httpx.URL, reference: str) -> Download | httpx.URL:
        """The media, or where it moved to."""
        try:
            async with self._client.stream("GET", url, follow_redirects=False) as response:
                status = response.status_code
                if status in _REDIRECTS:
                    target = response.headers.get("location")
                    if not target:
                        raise ExternalServiceUnavailable(SERVICE, "a redirect without Location")
                    return url.join(target)
                if status in (404, 410):
                    raise NotFound("chatwoot media", reference)
                if status != 200:
                    raise ExternalServiceUnavailable(
                        SERVICE,
                        f"media answered HTTP {status}",
                        retry_after_seconds=retry_after(response),
                    )
                content = await wire.limited_body(response, self._max_bytes, "the attachment")
                mime_type = response.headers.get("content-type", "").split(";", 1)[0].strip()
                return Download(content, mime_type or "application/octet-stream")
        except httpx.TimeoutException as error:
            raise ExternalServiceUnavailable(SERVICE, "the media download timed out") from error
        except httpx.RequestError as error:
            raise ExternalServiceUnavailable(
                SERVICE, f"the media download failed: {type(error).__name__}"
            ) from error


def _media_url(reference: str) -> httpx.URL:
    try:
        url = httpx.URL(reference)
    except httpx.InvalidURL:
        raise Malformed("the media reference is not a URL") from None
    if url.scheme not in _DEFAULT_PORTS or not url.host:
        raise Malformed("a media URL must be http or https")
    if url.userinfo:
        raise Malformed("a media URL must not carry credentials")
    return url


def _origin(url: httpx.URL) -> tuple[str, str, int]:
    return url.scheme, url.host.lower(), url.port or _DEFAULT_PORTS[url.scheme]
