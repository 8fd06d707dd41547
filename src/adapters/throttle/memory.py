"""Attempt counters kept in this process: the embedded default for a single worker."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from talia_core.identity.ports import AttemptWindow
from talia_core.shared.clock import Clock

# Expired windows are swept once the store has doubled since the last sweep (and holds at
# least this many), so a sweep costs O(1) per hit, amortised, and at most half are stale.
_SWEEP_FROM = 1024


class InMemoryAttemptStore:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._windows: dict[str, tuple[int, datetime]] = {}
        self._sweep_at = _SWEEP_FROM

    def __len__(self) -> int:
        """How many windows are held, expired ones not yet swept included."""
        return len(self._windows)

    def _open(self, key: str) -> tuple[int, datetime] | None:
        window = self._windows.get(key)
        if window is not None and window[1] <= self._clock.now():
            del self._windows[key]
            return None
        return window

    def _seen(self, count: int, resets_at: datetime) -> AttemptWindow:
        seconds = (resets_at - self._clock.now()).total_seconds()
        return AttemptWindow(count=count, resets_in_seconds=math.ceil(seconds))

    def _sweep(self) -> None:
        now = self._clock.now()
        self._windows = {k: w for k, w in self._windows.items() if w[1] > now}
        self._sweep_at = max(_SWEEP_FROM, 2 * len(self._windows))

    async def current(self, key: str) -> AttemptWindow:
        window = self._open(key)
        return AttemptWindow(0, 0) if window is None else self._seen(*window)

    async def hit(self, key: str, *, window_seconds: int) -> AttemptWindow:
        if len(self._windows) >= self._sweep_at:
            self._sweep()
        count, resets_at = self._open(key) or (
            0,
            self._clock.now() + timedelta(seconds=window_seconds),
        )
        self._windows[key] = (count + 1, resets_at)
        return self._seen(count + 1, resets_at)

    async def take_back(self, key: str) -> None:
        window = self._open(key)
        if window is not None and window[0] > 0:
            self._windows[key] = (window[0] - 1, window[1])

    async def clear(self, key: str) -> None:
        self._windows.pop(key, None)
