"""Attempt counters kept in this process: the embedded default for a single worker."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from talia_core.identity.ports import AttemptWindow
from talia_core.shared.clock import Clock


class InMemoryAttemptStore:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._windows: dict[str, tuple[int, datetime]] = {}

    def _open(self, key: str) -> tuple[int, datetime] | None:
        window = self._windows.get(key)
        if window is not None and window[1] <= self._clock.now():
            del self._windows[key]
            return None
        return window

    def _seen(self, count: int, resets_at: datetime) -> AttemptWindow:
        seconds = (resets_at - self._clock.now()).total_seconds()
        return AttemptWindow(count=count, resets_in_seconds=math.ceil(seconds))

    async def current(self, key: str) -> AttemptWindow:
        window = self._open(key)
        return AttemptWindow(0, 0) if window is None else self._seen(*window)

    async def hit(self, key: str, *, window_seconds: int) -> AttemptWindow:
        count, resets_at = self._open(key) or (
            0,
            self._clock.now() + timedelta(seconds=window_seconds),
        )
        self._windows[key] = (count + 1, resets_at)
        return self._seen(count + 1, resets_at)

    async def clear(self, key: str) -> None:
        self._windows.pop(key, None)
