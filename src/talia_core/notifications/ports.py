"""What notifications need from the world."""

from __future__ import annotations

from typing import Protocol

from talia_core.shared.events import DomainEvent


class EventNotifier(Protocol):
    """Tells a system outside Talia that an event happened; the receiver dedupes by its id."""

    async def notify(self, event: DomainEvent) -> None:
        """Deliver the event. ``NotificationRefused`` when the receiver refuses it for good;
        ``ExternalServiceUnavailable`` (with the receiver's retry-after, if it said one)
        when trying again later may succeed."""
        ...
