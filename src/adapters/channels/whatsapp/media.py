"""Attachments in: a media id of the Cloud API, looked up then fetched."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import re
from typing import Any

import httpx

from adapters.channels import wire
from adapters.channels.whatsapp import graph
from adapters.channels.whatsapp.graph import API_VERSION, GRAPH_URL, SERVICE
from adapters.channels.wire import json_object
from talia_core.conversations.errors import DeliveryRefused
from talia_core.shared.errors import ExternalServiceUnavailable, Malformed, NotFound
from talia_core.shared.files import Download

logger = logging.getLogger("talia.whatsapp")

MAX_MEDIA_BYTES = 16 * 1024 * 1024

_MEDIA_ID = re.compile(r"[A-Za-z0-9_-]{1,200}")
_SHA256_HEX = re.compile(r"[0-9a-fA-F]{64}")
# "Object with ID ... does not exist": a media id that expired or never was.
_NO_SUCH_OBJECT = 100


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
        self._api = graph.api_root(base_url, api_version)
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
            error_code = graph.error_code(response)
            if response.status_code < 500 and error_code == _NO_SUCH_OBJECT:
                raise NotFound("WhatsApp media", reference)
            failure = graph.failure(response, "the media lookup")
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
