"""``EventNotifier`` over HTTP: each event POSTed as JSON to one URL, signed with HMAC-SHA256.

The wire format and the signature scheme are documented in ``docs/events.md``. The body is
serialised once and those very bytes are signed and sent, so the receiver verifies the
signature over the raw body it read.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from datetime import UTC

import httpx

from adapters.channels.wire import retry_after
from talia_core.notifications.errors import NotificationRefused
from talia_core.shared.clock import Clock
from talia_core.shared.errors import ExternalServiceUnavailable
from talia_core.shared.events import DomainEvent

logger = logging.getLogger("talia.webhooks")

SERVICE = "webhook"
_RETRIED = frozenset({408, 429})
"""Client errors that say "later", not "never"."""


def signature(secret: bytes, timestamp: str, body: bytes) -> str:
    """``X-Talia-Signature``: the hex HMAC-SHA256 of ``<timestamp>.<raw body>``."""
    digest = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def body_of(event: DomainEvent) -> bytes:
    occurred_at = event.occurred_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    document = {"id": event.id, "name": event.name, "occurred_at": occurred_at, "data": event.data}
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


class HttpEventNotifier:
    """POSTs each event to ``url``; 2xx is delivered, 408, 429 and 5xx (and silence) are worth
    another try later, any other answer is a refusal for good."""

    def __init__(self, client: httpx.AsyncClient, *, url: str, secret: str, clock: Clock) -> None:
        if not url.startswith(("https://", "http://")):
            raise ValueError("the webhook URL must start with https://")
        if not secret:
            raise ValueError("the webhook needs a secret to sign its deliveries")
        self._client = client
        self._url = url
        self._secret = secret.encode()
        self._clock = clock

    async def notify(self, event: DomainEvent) -> None:
        body = body_of(event)
        timestamp = str(int(self._clock.now().timestamp()))
        headers = {
            "Content-Type": "application/json",
            "X-Talia-Event": event.name,
            "X-Talia-Event-Id": event.id,
            "X-Talia-Timestamp": timestamp,
            "X-Talia-Signature": signature(self._secret, timestamp, body),
        }
        try:
            response = await self._client.post(self._url, content=body, headers=headers)
        except httpx.TimeoutException as error:
            raise ExternalServiceUnavailable(SERVICE, "the delivery timed out") from error
        except httpx.RequestError as error:
            raise ExternalServiceUnavailable(
                SERVICE, f"the delivery failed: {type(error).__name__}"
            ) from error
        status = response.status_code
        if response.is_success:
            return
        if status >= 500 or status in _RETRIED:
            raise ExternalServiceUnavailable(
                SERVICE, f"the receiver answered HTTP {status}", retry_after(response)
            )
        logger.warning("the webhook receiver refused event %s with HTTP %s", event.id, status)
        raise NotificationRefused(SERVICE, f"HTTP {status}")
