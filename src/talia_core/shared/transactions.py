"""Running a unit of work again when the database gave it up for a concurrent one.

Only the whole unit can be run again: the reads that led to its writes are stale once the
database rolled it back, so the retry wraps the function that opens the unit, never its
commit. A use case opts in where running twice is harmless because the first run left
nothing behind (the database rolled it back) and it calls no one outside the database.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from talia_core.shared.errors import ConcurrentWrite

T = TypeVar("T")

Backoff = Callable[[int], float | None]
"""Seconds to wait before the attempt after ``failed_attempts``, or None to give up."""


def no_retry(failed_attempts: int) -> float | None:
    """Give up at the first collision: the backoff of units that never collide (the fakes)."""
    return None


async def retrying(
    work: Callable[[], Awaitable[T]],
    backoff: Backoff,
    *,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> T:
    """``work()``, run again after ``backoff`` while it raises ``ConcurrentWrite``; the last
    ``ConcurrentWrite`` when the backoff gives up. Any other error passes through at once."""
    failed = 0
    while True:
        try:
            return await work()
        except ConcurrentWrite:
            failed += 1
            delay = backoff(failed)
            if delay is None:
                raise
        await sleep(delay)
