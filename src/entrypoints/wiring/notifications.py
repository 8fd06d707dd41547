"""The consumers of outbox events this deployment runs, and the notifier they post with."""

from __future__ import annotations

import httpx

from adapters.resilience import BreakerBoard, resilient
from adapters.webhooks.notifier import HttpEventNotifier
from entrypoints.settings import Settings
from entrypoints.wiring.policies import runner
from talia_core.notifications.consumers import webhook_consumer
from talia_core.notifications.ports import EventNotifier
from talia_core.shared.clock import Clock
from talia_core.shared.outbox_relay import Consumer


def event_notifier(
    settings: Settings, client: httpx.AsyncClient, board: BreakerBoard, clock: Clock
) -> EventNotifier | None:
    """The webhook behind its runner (the receiver dedupes by event id, so a notification
    may be repeated); None without a webhook URL."""
    notifications = settings.notifications
    if not notifications.webhook_url:
        return None
    notifier = HttpEventNotifier(
        client,
        url=notifications.webhook_url,
        secret=notifications.webhook_secret.get_secret_value(),
        clock=clock,
    )
    return resilient(notifier, runner("webhook", board, settings))


def event_consumers(settings: Settings, notifier: EventNotifier | None) -> list[Consumer]:
    """No webhook, no consumer: the relay then only marks the events relayed."""
    if notifier is None:
        return []
    return [webhook_consumer(notifier, settings.notifications.event_names)]
