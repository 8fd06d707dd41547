"""What the channel adapters share about their providers' wire formats: the parsed
delivery, reading JSON payloads strictly, and reading HTTP answers (their JSON object,
``Retry-After``, and a body that must stay under a size limit)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

import attrs
import httpx

from talia_core.conversations.events import ChannelEvent
from talia_core.shared.errors import Malformed

MAX_RETRY_AFTER = 24 * 3600


@attrs.frozen
class Notification:
    """What one webhook delivery carried: events to store, and the parts skipped and why."""

    events: list[ChannelEvent]
    ignored: list[str]


def json_dict(value: object, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise Malformed(f"{what} is missing or not a JSON object")
    return value


def optional_list(value: object, what: str) -> list[Any]:
    """An optional list: absent is empty, anything else than a list is malformed."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise Malformed(f"{what} is not a list")
    return value


def text(value: object) -> str | None:
    """A string with something in it, or None."""
    return value if isinstance(value, str) and value.strip() else None


def number(value: object) -> float | None:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    try:
        return float(value)
    except OverflowError:  # an integer too long for a float
        return None


async def limited_body(response: httpx.Response, max_bytes: int, what: str) -> bytes:
    """A streamed body, refused (``Malformed``) as soon as it is known to be over the limit."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise Malformed(f"{what} is over {max_bytes} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise Malformed(f"{what} is over {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def json_object(response: httpx.Response) -> dict[str, Any] | None:
    """The body as a JSON object, or None when it is not one."""
    try:
        parsed = response.json()
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


class Answer(Protocol):
    """An HTTP answer of any client library (httpx, or httpx2 under the providers' SDKs)."""

    @property
    def headers(self) -> Mapping[str, str]: ...


def retry_after(response: Answer) -> int | None:
    """``Retry-After`` as whole seconds (delta-seconds or an HTTP date), at least 1."""
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isdigit():
        return max(1, min(int(value), MAX_RETRY_AFTER))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    seconds = math.ceil((when - datetime.now(UTC)).total_seconds())
    return max(1, min(seconds, MAX_RETRY_AFTER))
