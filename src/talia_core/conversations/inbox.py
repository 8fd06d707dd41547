"""What every channel webhook calls: the durable inbox, seen from the request path."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import attrs

from talia_core.conversations.events import ChannelEvent, InboxEntry
from talia_core.conversations.ports import Inbox
from talia_core.shared.clock import Clock


@attrs.frozen
class Receipt:
    accepted: int
    duplicates: int


class InboxService:
    """The acknowledgement path of every channel webhook: store the events, nothing more."""

    def __init__(self, inbox: Inbox, clock: Clock, wake: Callable[[], None] = lambda: None):
        self._inbox = inbox
        self._clock = clock
        self._wake = wake

    async def receive(self, events: Sequence[ChannelEvent]) -> Receipt:
        """Returns once every event is durably stored with the job that will process it."""
        if not events:
            return Receipt(0, 0)
        now = self._clock.now()
        fresh = await self._inbox.accept([InboxEntry.of(event, now) for event in events])
        accepted = sum(fresh)
        if accepted:
            self._wake()
        return Receipt(accepted, len(fresh) - accepted)
