"""Time comes from a ``Clock`` so rules that depend on it can be tested."""

from datetime import UTC, datetime, timedelta
from typing import Protocol

import attrs


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@attrs.define
class FakeClock:
    """A clock that stands still until told to move."""

    current: datetime = attrs.field(factory=lambda: datetime(2026, 1, 1, 12, 0, tzinfo=UTC))

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current += delta
