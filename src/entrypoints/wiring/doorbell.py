"""The doorbell between use cases that record jobs and the queue that runs them."""

from __future__ import annotations

from collections.abc import Callable


class Doorbell:
    """Rung by use cases after they commit jobs; the running job queue answers it.

    It breaks the cycle between the use cases (which record jobs) and the queue (which runs
    the use cases' handlers).
    """

    def __init__(self) -> None:
        self._listeners: list[Callable[[], None]] = []

    def ring(self) -> None:
        for listener in self._listeners:
            listener()

    def connect(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)
