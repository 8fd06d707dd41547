"""The payment journal: every notification received and every refund given, and what
became of each."""

from __future__ import annotations

import enum
from datetime import datetime

import attrs

from talia_core.commerce.order import Order
from talia_core.commerce.payment import PaymentNotification, RefundReceipt
from talia_core.shared.ids import new_id
from talia_core.shared.money import Money

MAX_REJECTION_DETAIL = 500
"""A refused notification's reason is kept for an admin's eye only, so it is kept
shortened to this many characters on purpose."""


class NotificationOutcome(enum.StrEnum):
    APPLIED = "applied"  # the order is paid
    RECORDED = "recorded"  # a status that changes no order (unpaid, refused, running)
    DUPLICATE = "duplicate"  # this transaction and status were handled before
    REVIEW = "review"  # paid, but the order cannot take it (already paid, cancelled, expired)
    MISMATCH = "mismatch"  # amount, currency or order do not match
    REJECTED = "rejected"  # forged or unreadable
    REFUNDED = "refunded"  # an admin gave the money back through the provider


@attrs.define
class PaymentEntry:
    """The journal of every notification received, kept once per transaction and status."""

    provider: str
    outcome: NotificationOutcome
    received_at: datetime
    detail: str | None = None
    order_id: str | None = None
    order_reference: str | None = None
    transaction_id: str | None = None
    status: str | None = None
    amount: Money | None = None
    id: str = attrs.field(factory=new_id)

    @classmethod
    def of(
        cls, notification: PaymentNotification, outcome: NotificationOutcome, *, at: datetime
    ) -> PaymentEntry:
        return cls(
            provider=notification.provider,
            outcome=outcome,
            received_at=at,
            order_reference=notification.order_reference,
            transaction_id=notification.transaction_id,
            status=notification.status,
            amount=notification.amount,
        )

    @classmethod
    def rejection(cls, provider: str, reason: str, *, at: datetime) -> PaymentEntry:
        """A notification refused as forged or unreadable, with ``reason`` kept shortened."""
        return cls(
            provider=provider,
            outcome=NotificationOutcome.REJECTED,
            received_at=at,
            detail=reason[:MAX_REJECTION_DETAIL],
        )


def refund_entry(order: Order, receipt: RefundReceipt, *, at: datetime) -> PaymentEntry:
    """The journal's record of ``order``'s money given back, under the provider's refund id."""
    return PaymentEntry(
        provider=receipt.provider,
        outcome=NotificationOutcome.REFUNDED,
        received_at=at,
        detail=f"refund of {order.payment_reference}",
        order_id=order.id,
        order_reference=order.reference,
        transaction_id=receipt.refund_id,
        status=receipt.status,
        amount=order.total,
    )


def mismatch(order: Order | None, notification: PaymentNotification) -> str | None:
    """What in the notification does not fit the order it names, if anything."""
    if order is None:
        return f"no order {notification.order_reference!r}"
    if notification.amount.currency != order.currency:
        return f"currency {notification.amount.currency} is not the order's {order.currency}"
    if notification.amount.amount != order.total.amount:
        return f"amount {notification.amount.amount} is not the order's {order.total.amount}"
    return None
