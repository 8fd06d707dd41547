"""The outbox events the leads context reacts to."""

from __future__ import annotations

from datetime import datetime

from talia_core.leads.services import LeadBook
from talia_core.shared.events import DomainEvent
from talia_core.shared.outbox_relay import Consumer

LEADS_CONSUMER = "leads.contacts"
MESSAGE_RECEIVED = "message.received"
"""A contact wrote (raised by the conversations context): its lead is opened or touched."""


def contact_consumer(leads: LeadBook) -> Consumer:
    async def handle(event: DomainEvent) -> None:
        data = event.data
        await leads.contact_wrote(
            event.id,
            str(data["contact_id"]),
            str(data["channel"]),
            datetime.fromisoformat(str(data["received_at"])),
            data.get("text"),
        )

    return Consumer(LEADS_CONSUMER, frozenset({MESSAGE_RECEIVED}), handle)
