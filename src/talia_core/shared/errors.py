"""The one hierarchy of core errors. They say what went wrong, never an HTTP status."""

from __future__ import annotations

from collections.abc import Mapping


class TaliaError(Exception):
    """Base of every error the core raises on purpose."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(TaliaError):
    def __init__(self, kind: str, key: str) -> None:
        super().__init__(f"{kind} {key!r} does not exist")
        self.kind = kind
        self.key = key


class Conflict(TaliaError):
    """The request clashes with the current state (a duplicate, an illegal transition)."""


class RuleViolated(TaliaError):
    """The input breaks a business rule; ``fields`` names the offending fields."""

    def __init__(self, detail: str, fields: Mapping[str, str] | None = None) -> None:
        super().__init__(detail)
        self.fields = dict(fields or {})


class Unauthorized(TaliaError):
    """The caller is not authenticated: no, bad, expired or revoked credentials."""


class Forbidden(TaliaError):
    """The caller is authenticated but may not do this."""


class RateLimited(TaliaError):
    def __init__(self, detail: str, retry_after_seconds: int) -> None:
        super().__init__(detail)
        self.retry_after_seconds = max(1, retry_after_seconds)


class ExternalServiceUnavailable(TaliaError):
    """A provider or dependency did not answer in time or is switched off by its breaker."""

    def __init__(self, service: str, detail: str, retry_after_seconds: int | None = None) -> None:
        super().__init__(f"{service}: {detail}")
        self.service = service
        self.retry_after_seconds = retry_after_seconds


class ConcurrentWrite(ExternalServiceUnavailable):
    """The database gave this transaction up for a concurrent one (a deadlock, a
    serialization failure, a row both made first): the whole unit may run again, its reads
    included (``talia_core.shared.transactions.retrying``)."""

    def __init__(self, detail: str) -> None:
        super().__init__("database", detail, 1)


class CallNotAttempted(ExternalServiceUnavailable):
    """The dependency was not called at all: its circuit breaker is open, or no slot came
    free to call it. A job retrying such a call has not spent an attempt."""


class RequestRefused(TaliaError):
    """A provider refused the request as it was (a bad model name, a malformed tool schema,
    too long an input, credentials it does not take): sending it again would be refused
    again."""

    def __init__(self, provider: str, detail: str) -> None:
        super().__init__(f"{provider} refused the request: {detail}")
        self.provider = provider


class CapabilityNotConfigured(TaliaError):
    """No engine is configured for a capability (speech, images): no setting names one, or
    the offline engine it needs is not installed. Never answered by a silent fake."""

    def __init__(self, capability: str, detail: str) -> None:
        super().__init__(f"{capability} is not configured: {detail}")
        self.capability = capability


class Malformed(TaliaError):
    """The input cannot be read at all: a payload that does not parse or lacks its parts."""
