"""What a language model provider's refusal means, the same for every provider.

A busy or broken provider (408, 409, 429, 5xx) is ``ExternalServiceUnavailable`` with its
``Retry-After``; refused credentials (401, 403) are too, logged as errors, since an operator
fixes them and the conversation's job then goes through; any other 4xx was caused by the
request itself and is ``RequestRefused``, never worth repeating.
"""

from __future__ import annotations

import logging

from adapters.channels.wire import Answer, retry_after
from talia_core.shared.errors import ExternalServiceUnavailable, RequestRefused, TaliaError

logger = logging.getLogger("talia.language")

# A provider's error text is kept shortened on purpose: it ends up in logs and job errors.
MAX_DETAIL = 300
_TRANSIENT = frozenset({408, 409, 429})
_CREDENTIALS = frozenset({401, 403})


def failure(provider: str, status: int, answer: Answer, detail: str) -> TaliaError:
    described = f"HTTP {status}: {shortened(detail)}"
    if status in _TRANSIENT or status >= 500:
        return ExternalServiceUnavailable(provider, described, retry_after(answer))
    if status in _CREDENTIALS:
        logger.error("%s refused the credentials (%s)", provider, described)
        return ExternalServiceUnavailable(provider, f"the credentials were refused: {described}")
    return RequestRefused(provider, described)


def unreachable(provider: str, cause: BaseException | None) -> ExternalServiceUnavailable:
    """A request that got no answer: the connection failed (named by the error's type)."""
    return ExternalServiceUnavailable(provider, f"no answer: {type(cause).__name__}")


def unconfigured(provider: str, setting: str) -> ExternalServiceUnavailable:
    logger.error("%s is not configured: %s is empty", provider, setting)
    return ExternalServiceUnavailable(provider, f"not configured ({setting} is empty)")


def shortened(detail: str) -> str:
    return detail if len(detail) <= MAX_DETAIL else detail[: MAX_DETAIL - 1] + "…"
