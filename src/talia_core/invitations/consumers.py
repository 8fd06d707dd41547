"""The outbox events the invitations context reacts to: a paid order makes its invitations,
a refunded one takes them off the web."""

from __future__ import annotations

from talia_core.invitations.services import InvitationService, PaidItem
from talia_core.shared.events import DomainEvent
from talia_core.shared.outbox_relay import Consumer

FULFILMENT_CONSUMER = "invitations.orders"
ORDER_PAID = "order.paid"
ORDER_REFUNDED = "order.refunded"
"""Raised by the commerce context. A cancelled order was never paid: it made nothing."""


def order_consumer(invitations: InvitationService) -> Consumer:
    async def handle(event: DomainEvent) -> None:
        data = event.data
        if event.name == ORDER_PAID:
            items = [
                PaidItem(str(item["kind"]), str(item["product_id"]), int(item["quantity"]))
                for item in data["items"]
            ]
            await invitations.fulfil(str(data["order_id"]), str(data["customer_id"]), items)
        else:
            await invitations.revoke_order(str(data["order_id"]))

    return Consumer(FULFILMENT_CONSUMER, frozenset({ORDER_PAID, ORDER_REFUNDED}), handle)
