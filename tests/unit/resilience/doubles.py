"""Manual time, policies and outbound calls that misbehave on demand."""

import asyncio
from collections.abc import Callable

import attrs

from talia_core.resilience.model import (
    BreakerPolicy,
    BulkheadPolicy,
    ResiliencePolicy,
    RetryPolicy,
)
from talia_core.resilience.ports import ResilienceRunner


@attrs.define
class ManualTime:
    """Monotonic time that moves only when slept through or advanced; jitter is fixed at 0.5."""

    now: float = 1_000.0
    slept: list[float] = attrs.field(factory=list)

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)

    def random(self) -> float:
        return 0.5

    def advance(self, seconds: float) -> None:
        self.now += seconds


RunnerFactory = Callable[[str, ResiliencePolicy, ManualTime], ResilienceRunner]


def policy(
    *,
    timeout: float = 1.0,
    attempts: int = 3,
    threshold: int = 5,
    open_seconds: float = 30.0,
    probes: int = 1,
    concurrent: int = 4,
    wait: float = 0.01,
    queued: int = 4,
) -> ResiliencePolicy:
    return ResiliencePolicy(
        timeout_seconds=timeout,
        retry=RetryPolicy(
            max_attempts=attempts,
            base_delay_seconds=0.1,
            max_delay_seconds=10,
            multiplier=2,
            max_retry_after_seconds=60,
        ),
        breaker=BreakerPolicy(threshold, open_seconds, probes),
        bulkhead=BulkheadPolicy(concurrent, wait, queued),
    )


@attrs.define
class Flaky:
    """Raises ``errors`` one per call, then answers ``result``."""

    errors: list[BaseException] = attrs.field(factory=list)
    result: str = "answer"
    calls: int = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return self.result


@attrs.define
class Hanging:
    """Hangs on its first ``times`` calls until cancelled, then answers."""

    times: int = 1
    calls: int = 0
    cancelled: int = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.calls > self.times:
            return "late answer"
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        return "never"


@attrs.define
class Gated:
    """Holds every call until ``gate`` opens; ``running`` counts calls inside."""

    gate: asyncio.Event = attrs.field(factory=asyncio.Event)
    running: int = 0
    calls: int = 0

    async def __call__(self) -> str:
        self.calls += 1
        self.running += 1
        try:
            await self.gate.wait()
        finally:
            self.running -= 1
        return "through"
