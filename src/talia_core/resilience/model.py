"""The resilience policy as pure data, the retry schedule and the circuit breaker state machine.

Nothing here reads a clock or sleeps: time arrives as monotonic seconds (``now: float``) and
randomness as an injected ``Callable[[], float]``, so every decision is reproducible.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable
from typing import Any

import attrs

from talia_core.shared.errors import ExternalServiceUnavailable, RuleViolated, TaliaError


def _positive(_: Any, attribute: attrs.Attribute[Any], value: float) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise RuleViolated(
            f"{attribute.name} must be a positive number, got {value!r}",
            {attribute.name: "must be positive"},
        )


def _at_least_one(_: Any, attribute: attrs.Attribute[Any], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise RuleViolated(
            f"{attribute.name} must be a whole number of at least 1, got {value!r}",
            {attribute.name: "must be at least 1"},
        )


@attrs.frozen
class RetryPolicy:
    """Exponential backoff with full jitter; ``max_attempts`` counts the first call."""

    max_attempts: int = attrs.field(validator=_at_least_one)
    base_delay_seconds: float = attrs.field(validator=_positive)
    max_delay_seconds: float = attrs.field(validator=_positive)
    multiplier: float = attrs.field(validator=_positive)
    max_retry_after_seconds: float = attrs.field(validator=_positive)

    def __attrs_post_init__(self) -> None:
        if self.max_delay_seconds < self.base_delay_seconds:
            raise RuleViolated(
                "max_delay_seconds must not be below base_delay_seconds",
                {"max_delay_seconds": "below base_delay_seconds"},
            )
        if self.multiplier < 1:
            raise RuleViolated(
                "multiplier must be at least 1", {"multiplier": "must be at least 1"}
            )


@attrs.frozen
class BreakerPolicy:
    failure_threshold: int = attrs.field(validator=_at_least_one)
    open_seconds: float = attrs.field(validator=_positive)
    half_open_probes: int = attrs.field(validator=_at_least_one)


@attrs.frozen
class BulkheadPolicy:
    """At most ``max_concurrent`` calls run; up to ``max_queued`` more wait ``max_wait_seconds``."""

    max_concurrent: int = attrs.field(validator=_at_least_one)
    max_wait_seconds: float = attrs.field(validator=_positive)
    max_queued: int = attrs.field(validator=_at_least_one)

    @max_queued.default
    def _as_many_as_may_run(self) -> int:
        return self.max_concurrent


@attrs.frozen
class ResiliencePolicy:
    """How one outbound dependency is called; ``timeout_seconds`` bounds each attempt."""

    timeout_seconds: float = attrs.field(validator=_positive)
    retry: RetryPolicy
    breaker: BreakerPolicy
    bulkhead: BulkheadPolicy


def retry_delay(
    policy: RetryPolicy,
    failed_attempt: int,
    random: Callable[[], float],
    retry_after_seconds: float | None = None,
) -> float | None:
    """Seconds to wait before the attempt after ``failed_attempt`` (1-based), or None to give up.

    The delay is uniform in ``[0, min(max_delay, base * multiplier ** (failed_attempt - 1)))``
    ("full jitter"), raised to the provider's retry-after hint when there is one. A hint longer
    than ``max_retry_after_seconds`` gives up: the provider asked for more patience than the
    caller can afford.
    """
    if failed_attempt >= policy.max_attempts:
        return None
    hint = max(0.0, retry_after_seconds) if retry_after_seconds is not None else 0.0
    if hint > policy.max_retry_after_seconds:
        return None
    try:
        growth = policy.base_delay_seconds * policy.multiplier ** (failed_attempt - 1)
    except OverflowError:
        growth = math.inf
    ceiling = min(policy.max_delay_seconds, growth)
    return max(random() * ceiling, hint)


class Outcome(enum.Enum):
    """What a call's result means to the breaker and to the retry loop."""

    SUCCESS = "success"
    UNAVAILABLE = "unavailable"  # counted as a failure and retried
    PASSED_THROUGH = "passed_through"  # the caller's problem: neither counted nor retried
    DEFECT = "defect"  # a bug or an untranslated error: counted, never retried


def classify(error: BaseException) -> Outcome:
    """Sort an error raised by an outbound call.

    Adapters translate timeouts, 5xx, 429 and connection errors into
    ``ExternalServiceUnavailable``; the rest of the core hierarchy (not found, conflict, rule
    violated, unauthorized ...) says the request was wrong, not that the dependency is sick.
    Any other exception escaped an adapter's translation: repeating it will not help, but it
    counts towards opening the breaker, since a dependency answering in ways we cannot handle
    is as unusable as one that does not answer. Cancellation and interpreter exit (exceptions
    that are not ``Exception``) say nothing about the dependency and pass through.
    """
    if not isinstance(error, Exception):
        return Outcome.PASSED_THROUGH
    if isinstance(error, ExternalServiceUnavailable):
        return Outcome.UNAVAILABLE
    if isinstance(error, TaliaError):
        return Outcome.PASSED_THROUGH
    return Outcome.DEFECT


class BreakerState(enum.Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@attrs.frozen
class BreakerSnapshot:
    """What health checks and metrics see; ``retry_after_seconds`` is 0 unless open."""

    state: BreakerState
    consecutive_failures: int
    retry_after_seconds: float
    probes_in_flight: int


@attrs.frozen
class Permit:
    """Leave to make one call; its result is recorded against the period that issued it."""

    period: int
    probe: bool


@attrs.define
class CircuitBreaker:
    """Closed -> (threshold consecutive failures) -> open -> (``open_seconds``) -> half open.

    Half open admits at most ``half_open_probes`` concurrent probes: one probe success closes
    the breaker, one probe failure opens it again for another interval. Each state change starts
    a new period; results of permits from an earlier period are stale and ignored.
    """

    policy: BreakerPolicy
    _state: BreakerState = attrs.field(default=BreakerState.CLOSED, init=False)
    _period: int = attrs.field(default=0, init=False)
    _consecutive_failures: int = attrs.field(default=0, init=False)
    _opened_at: float = attrs.field(default=0.0, init=False)
    _probes_in_flight: int = attrs.field(default=0, init=False)

    def admit(self, now: float) -> Permit | None:
        """A permit to call, or None while the breaker rejects calls."""
        if self._state is BreakerState.OPEN and self._interval_passed(now):
            self._enter(BreakerState.HALF_OPEN)
        if self._state is BreakerState.CLOSED:
            return Permit(self._period, probe=False)
        if self._state is BreakerState.HALF_OPEN and (
            self._probes_in_flight < self.policy.half_open_probes
        ):
            self._probes_in_flight += 1
            return Permit(self._period, probe=True)
        return None

    def record_success(self, permit: Permit) -> None:
        if permit.period != self._period:
            return
        if permit.probe:
            self._enter(BreakerState.CLOSED)
        self._consecutive_failures = 0

    def record_failure(self, permit: Permit, now: float) -> None:
        if permit.period != self._period:
            return
        self._consecutive_failures += 1
        if permit.probe or self._consecutive_failures >= self.policy.failure_threshold:
            self._enter(BreakerState.OPEN)
            self._opened_at = now

    def release(self, permit: Permit) -> None:
        """Return a permit whose call ended without saying anything about the dependency."""
        if permit.period == self._period and permit.probe:
            self._probes_in_flight -= 1

    def snapshot(self, now: float) -> BreakerSnapshot:
        if self._state is BreakerState.OPEN and self._interval_passed(now):
            return BreakerSnapshot(BreakerState.HALF_OPEN, self._consecutive_failures, 0.0, 0)
        remaining = (
            self.policy.open_seconds - (now - self._opened_at)
            if self._state is BreakerState.OPEN
            else 0.0
        )
        return BreakerSnapshot(
            self._state, self._consecutive_failures, remaining, self._probes_in_flight
        )

    def _interval_passed(self, now: float) -> bool:
        return now - self._opened_at >= self.policy.open_seconds

    def _enter(self, state: BreakerState) -> None:
        self._state = state
        self._period += 1
        self._probes_in_flight = 0
        if state is BreakerState.CLOSED:
            self._consecutive_failures = 0
