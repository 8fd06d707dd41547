"""A fake ``EventNotifier`` for tests: it records what it delivers.

``FakeEventNotifier`` passes the ``EventNotifier`` contract suite
(``tests/contracts/notifications/event_notifier.py``):

    notifier = FakeEventNotifier()
    notifier.refuse_next()               # the next notification: NotificationRefused
    notifier.fail_next(2, retry_after=7)  # the next two: ExternalServiceUnavailable
    ...
    notifier.delivered                   # every event accepted, in order (repeats included)
"""

from __future__ import annotations

from collections import deque

from talia_core.notifications.errors import NotificationRefused
from talia_core.shared.errors import ExternalServiceUnavailable
from talia_core.shared.events import DomainEvent

SERVICE = "fake-webhook"


class FakeEventNotifier:
    def __init__(self) -> None:
        self.delivered: list[DomainEvent] = []
        self._refusals = 0
        self._failures: deque[int | None] = deque()

    def refuse_next(self, times: int = 1) -> None:
        """The next ``times`` notifications that are not failed are refused for good."""
        self._refusals += times

    def fail_next(self, times: int = 1, *, retry_after: int | None = None) -> None:
        """The next ``times`` notifications find the receiver down, saying ``retry_after``."""
        self._failures.extend([retry_after] * times)

    async def notify(self, event: DomainEvent) -> None:
        if self._failures:
            raise ExternalServiceUnavailable(
                SERVICE, "unavailable (told to fail)", self._failures.popleft()
            )
        if self._refusals > 0:
            self._refusals -= 1
            raise NotificationRefused(SERVICE, "told to refuse")
        self.delivered.append(event)
