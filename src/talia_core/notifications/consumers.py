"""The consumers of outbox events this context offers."""

from __future__ import annotations

from collections.abc import Iterable

from talia_core.notifications.ports import EventNotifier
from talia_core.shared.outbox_relay import Consumer

WEBHOOK_CONSUMER = "notifications.webhook"


def webhook_consumer(notifier: EventNotifier, events: Iterable[str]) -> Consumer:
    """Each of ``events`` posted to the business's webhook, once its relay schedules it."""
    return Consumer(WEBHOOK_CONSUMER, frozenset(events), notifier.notify)
