"""``ResilienceRunner`` on hyx: hyx bounds each attempt and the concurrency, the core decides
whether to retry, how long to wait and whether the breaker lets a call through."""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import attrs
from hyx.bulkhead import bulkhead
from hyx.bulkhead.exceptions import BulkheadFull
from hyx.timeout import timeout
from hyx.timeout.exceptions import MaxDurationExceeded

from talia_core.resilience.model import (
    BreakerSnapshot,
    CircuitBreaker,
    Outcome,
    Permit,
    ResiliencePolicy,
    classify,
    retry_delay,
)
from talia_core.shared.errors import CallNotAttempted, ExternalServiceUnavailable

T = TypeVar("T")


@attrs.define
class HyxResilienceRunner:
    """Fallback( bulkhead( retry( breaker( timeout( operation ))))).

    One call holds its bulkhead slot across its retries, so a sick dependency cannot pull in
    more concurrent work through backoff. ``monotonic``, ``sleep`` and ``random`` are injected
    so tests drive time and jitter.
    """

    name: str
    policy: ResiliencePolicy
    _monotonic: Callable[[], float] = time.monotonic
    _sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    _random: Callable[[], float] = random.random
    _breaker: CircuitBreaker = attrs.field(init=False)
    _bulkhead: bulkhead = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self._breaker = CircuitBreaker(self.policy.breaker)
        limits = self.policy.bulkhead
        self._bulkhead = bulkhead(
            max_concurrency=limits.max_concurrent,
            max_capacity=limits.max_concurrent + limits.max_queued,
        )

    def snapshot(self) -> BreakerSnapshot:
        return self._breaker.snapshot(self._monotonic())

    async def run(
        self,
        operation: Callable[[], Awaitable[T]],
        *,
        fallback: Callable[[ExternalServiceUnavailable], Awaitable[T]] | None = None,
        idempotent: bool = True,
    ) -> T:
        try:
            return await self._within_bulkhead(operation, idempotent)
        except ExternalServiceUnavailable as error:
            if fallback is None:
                raise
            return await fallback(error)

    async def _within_bulkhead(self, operation: Callable[[], Awaitable[T]], idempotent: bool) -> T:
        # hyx bounds how many may wait, not for how long: the wait deadline is lifted on entry.
        async def admitted() -> T:
            wait.reschedule(None)
            return await self._with_retries(operation, idempotent)

        try:
            async with asyncio.timeout(self.policy.bulkhead.max_wait_seconds) as wait:
                return await self._bulkhead(admitted)()
        except BulkheadFull as error:
            raise CallNotAttempted(self.name, "too many calls waiting") from error
        except TimeoutError as error:
            if not wait.expired():
                raise
            raise CallNotAttempted(
                self.name, f"no free slot within {self.policy.bulkhead.max_wait_seconds} s"
            ) from error

    async def _with_retries(self, operation: Callable[[], Awaitable[T]], idempotent: bool) -> T:
        attempt = 1
        while True:
            permit = self._breaker.admit(self._monotonic())
            if permit is None:
                wait = self._breaker.snapshot(self._monotonic()).retry_after_seconds
                raise CallNotAttempted(
                    self.name, "circuit breaker is open", max(1, math.ceil(wait))
                )
            try:
                return await self._attempt(operation, permit)
            except ExternalServiceUnavailable as error:
                hint = error.retry_after_seconds
                delay = (
                    retry_delay(self.policy.retry, attempt, self._random, hint)
                    if idempotent
                    else None
                )
                if delay is None:
                    raise ExternalServiceUnavailable(
                        self.name, f"gave up after {attempt} attempt(s): {error.detail}", hint
                    ) from error
            await self._sleep(delay)
            attempt += 1

    async def _attempt(self, operation: Callable[[], Awaitable[T]], permit: Permit) -> T:
        async def call() -> T:
            return await operation()

        try:
            result = await timeout(self.policy.timeout_seconds)(call)()
        except MaxDurationExceeded as error:
            self._breaker.record_failure(permit, self._monotonic())
            raise ExternalServiceUnavailable(
                self.name, f"no answer within {self.policy.timeout_seconds} s"
            ) from error
        except BaseException as error:
            if classify(error) is Outcome.PASSED_THROUGH:
                self._breaker.release(permit)
            else:
                self._breaker.record_failure(permit, self._monotonic())
            raise
        self._breaker.record_success(permit)
        return result
