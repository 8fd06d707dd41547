"""Errors of the scheduling context."""

from __future__ import annotations

from datetime import datetime

from talia_core.shared.errors import Conflict


class SlotTaken(Conflict):
    """The time asked for is no longer free: someone else booked it first."""

    def __init__(self, starts_at: datetime) -> None:
        super().__init__(f"the slot at {starts_at.isoformat()} is no longer available")
        self.starts_at = starts_at
