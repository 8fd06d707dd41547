"""Every runner of the process by name, for readiness checks and metrics."""

from __future__ import annotations

from typing import TypeVar

import attrs

from talia_core.resilience.model import BreakerSnapshot
from talia_core.resilience.ports import ResilienceRunner

R = TypeVar("R", bound=ResilienceRunner)


@attrs.define
class BreakerBoard:
    _runners: dict[str, ResilienceRunner] = attrs.field(factory=dict, init=False)

    def add(self, runner: R) -> R:
        """Put ``runner`` on the board and hand it back, so wiring reads in one expression."""
        if runner.name in self._runners:
            raise ValueError(f"a runner named {runner.name!r} is already on the board")
        self._runners[runner.name] = runner
        return runner

    def snapshots(self) -> dict[str, BreakerSnapshot]:
        return {name: self._runners[name].snapshot() for name in sorted(self._runners)}
