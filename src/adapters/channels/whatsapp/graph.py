"""How the Graph API is called and what its answers mean, for sending and for media.

A Graph error (``{"error": {"message", "type", "code", "error_subcode",
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

import logging
import re
from collections.abc import Mapping
from typing import Any

import httpx

from adapters.channels import wire
from adapters.channels.wire import json_object, retry_after
from talia_core.conversations.errors import DeliveryRefused
from talia_core.shared.errors import ExternalServiceUnavailable, TaliaError

logger = logging.getLogger("talia.whatsapp")

SERVICE = "whatsapp"
GRAPH_URL = "https://graph.facebook.com"
API_VERSION = "v25.0"

_API_VERSION = re.compile(r"v\d+\.\d+")

# Graph error codes worth retrying (Meta, "Error codes" of the Cloud API).
_THROTTLED = frozenset({4, 80007, 130429, 131048, 131056})
_TRANSIENT = frozenset({1, 2, 368, 131000, 131016, 131057})
# The business's credentials, permissions or account: an operator has to act.
_BUSINESS_SIDE = frozenset({0, 3, 10, 190, 131005, 131031, 131037, 131042, 131045})


def api_root(base_url: str, api_version: str) -> str:
    if not base_url.startswith(("https://", "http://")):
        raise ValueError("the Graph API base URL must start with https://")
    if not _API_VERSION.fullmatch(api_version):
        raise ValueError(f"a Graph API version looks like v25.0, not {api_version!r}")
    return f"{base_url.rstrip('/')}/{api_version}"


def error_code(response: httpx.Response) -> int | None:
    error = _graph_error(response)
    code = error.get("code") if error is not None else None
    return code if isinstance(code, int) and not isinstance(code, bool) else None


def failure(response: httpx.Response, action: str) -> TaliaError:
    """What a non-2xx answer means: a refusal of this message, or a reason to come back."""
    status = response.status_code
    error = _graph_error(response)
    code = error_code(response)
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


def _graph_error(response: httpx.Response) -> dict[str, Any] | None:
    body = json_object(response)
    error = body.get("error") if body is not None else None
    return error if isinstance(error, dict) else None


def _describe_error(error: Mapping[str, Any]) -> str:
    """Meta's message without its "(#code) " prefix, and the details when they add any."""
    message = re.sub(r"^\(#\d+\)\s*", "", wire.text(error.get("message")) or "")
    data = error.get("error_data")
    details = wire.text(data.get("details")) if isinstance(data, dict) else None
    if details and details != message:
        return f"{message}: {details}" if message else details
    return message or "no message"
