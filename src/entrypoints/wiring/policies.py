"""Resilience policies from settings: one runner per outbound dependency, job backoff."""

from __future__ import annotations

import random

from adapters.resilience import BreakerBoard, HyxResilienceRunner
from entrypoints.settings import PolicySettings, Settings
from talia_core.resilience.model import (
    BreakerPolicy,
    BulkheadPolicy,
    ResiliencePolicy,
    RetryPolicy,
    retry_delay,
)
from talia_core.shared.errors import ExternalServiceUnavailable, TaliaError
from talia_core.shared.jobs import RetryDelay
from talia_core.shared.transactions import Backoff

TRANSACTION_RETRY = RetryPolicy(
    max_attempts=4,
    base_delay_seconds=0.02,
    max_delay_seconds=0.5,
    multiplier=4.0,
    max_retry_after_seconds=0.5,
)
"""A unit of work the database gave up for a concurrent one runs at most four times, the
waits between runs jittered below 20, 80 and 320 ms."""


def policy(settings: PolicySettings) -> ResiliencePolicy:
    return ResiliencePolicy(
        timeout_seconds=settings.timeout_seconds,
        retry=RetryPolicy(
            max_attempts=settings.retry_attempts,
            base_delay_seconds=settings.retry_base_delay_seconds,
            max_delay_seconds=settings.retry_max_delay_seconds,
            multiplier=2.0,
            max_retry_after_seconds=settings.retry_max_retry_after_seconds,
        ),
        breaker=BreakerPolicy(
            failure_threshold=settings.breaker_failure_threshold,
            open_seconds=settings.breaker_open_seconds,
            half_open_probes=settings.breaker_half_open_probes,
        ),
        bulkhead=BulkheadPolicy(
            max_concurrent=settings.bulkhead_max_concurrent,
            max_wait_seconds=settings.bulkhead_max_wait_seconds,
        ),
    )


def runner(name: str, board: BreakerBoard, settings: Settings) -> HyxResilienceRunner:
    """A runner for one outbound dependency, put on the board for health and metrics."""
    return board.add(HyxResilienceRunner(name, policy(settings.resilience)))


def job_retry_delay(settings: Settings) -> RetryDelay:
    """Backoff with full jitter between a job's attempts, honouring a provider's retry-after."""
    jobs = settings.jobs
    schedule = RetryPolicy(
        max_attempts=jobs.retry_attempts,
        base_delay_seconds=jobs.retry_base_delay_seconds,
        max_delay_seconds=max(jobs.retry_max_delay_seconds, jobs.retry_base_delay_seconds),
        multiplier=2.0,
        max_retry_after_seconds=max(jobs.retry_max_delay_seconds, 3600.0),
    )

    def delay(failed_attempt: int, error: TaliaError | None) -> float | None:
        hint = error.retry_after_seconds if isinstance(error, ExternalServiceUnavailable) else None
        return retry_delay(schedule, failed_attempt, random.random, hint)

    return delay


def transaction_backoff() -> Backoff:
    """Full jitter between the runs of a unit of work the database gave up (``retrying``)."""

    def delay(failed_attempts: int) -> float | None:
        return retry_delay(TRANSACTION_RETRY, failed_attempts, random.random)

    return delay
