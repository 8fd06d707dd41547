"""Errors of the notifications context."""

from __future__ import annotations

from talia_core.shared.jobs import PermanentFailure


class NotificationRefused(PermanentFailure):
    """The receiver refused the event for good: its job is dead, for an admin to retry."""

    def __init__(self, receiver: str, detail: str) -> None:
        super().__init__(f"{receiver} refused the event: {detail}")
        self.receiver = receiver
