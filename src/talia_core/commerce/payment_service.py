"""Payments: opening one at the provider, and applying the provider's notifications once."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import attrs

from talia_core.commerce.actor import Actor, require_admin
from talia_core.commerce.lookups import own_order
from talia_core.commerce.order import Order, OrderStatus, OrderTransition
from talia_core.commerce.payment import PaymentForm, PaymentNotification, PaymentRequest
from talia_core.commerce.payment_journal import NotificationOutcome, PaymentEntry, mismatch
from talia_core.commerce.ports import CommerceUnitOfWork, CommerceUnits, PaymentGateway
from talia_core.shared.clock import Clock
from talia_core.shared.errors import Forbidden, Malformed, RuleViolated
from talia_core.shared.events import DomainEvent
from talia_core.shared.pagination import Page, PageRequest


def _paid_event(order: Order, at: datetime) -> DomainEvent:
    return DomainEvent(
        "order.paid",
        at,
        {
            "order_id": order.id,
            "number": order.number,
            "reference": order.reference,
            "customer_id": order.customer_id,
            "total": {"amount": order.total.amount, "currency": order.currency},
            "items": [
                {"kind": i.kind.value, "product_id": i.product_id, "quantity": i.quantity}
                for i in order.items
            ],
        },
    )


@attrs.frozen
class NotificationResult:
    outcome: NotificationOutcome
    order_id: str | None


class PaymentMismatch(RuleViolated):
    """A genuine notification that does not fit its order: kept, flagged, not applied."""


class PaymentService:
    def __init__(self, uow: CommerceUnits, clock: Clock, gateway: PaymentGateway) -> None:
        self._uow = uow
        self._clock = clock
        self._gateway = gateway

    @property
    def provider(self) -> str:
        return self._gateway.provider

    async def start_payment(self, actor: Actor, order_id: str) -> PaymentForm:
        """Open a payment at the provider for the caller's pending order."""
        async with self._uow(read_only=True) as uow:
            order = await own_order(uow, actor, order_id)
        if order.status is not OrderStatus.PENDING:
            raise RuleViolated(
                f"order {order.reference} is {order.status.value}; only a pending order is paid",
                {"order_id": order.status.value},
            )
        return await self._gateway.create_payment(
            PaymentRequest(
                order_id=order.id,
                order_reference=order.reference,
                amount=order.total,
                customer_id=order.customer_id,
                customer_email=actor.email if actor.id == order.customer_id else None,
            )
        )

    async def receive_notification(self, fields: Mapping[str, str]) -> NotificationResult:
        """Apply a provider's notification once per transaction and status.

        A forged or unreadable one is journaled as rejected and refused. A genuine one is
        journaled under the database's unique key first: a redelivery (even a concurrent
        one) finds the key taken and changes nothing.
        """
        now = self._clock.now()
        try:
            notification = self._gateway.read_notification(fields)
        except (Forbidden, Malformed) as refused:
            await self.journal_rejection(refused)
            raise
        async with self._uow() as uow:
            order = await self._order_named(uow, notification)
            outcome, detail = self._judge(order, notification)
            entry = PaymentEntry.of(notification, outcome, at=now)
            entry.order_id = order.id if order else None
            entry.detail = detail
            if not await uow.payment_journal.record(entry):
                return NotificationResult(NotificationOutcome.DUPLICATE, entry.order_id)
            if order is not None:
                await self._apply(uow, order, notification, outcome, detail, now)
            await uow.commit()
        if outcome is NotificationOutcome.MISMATCH:
            raise PaymentMismatch(f"notification not applied: {detail}", {"kr-answer": "mismatch"})
        return NotificationResult(outcome, entry.order_id)

    async def journal(
        self, actor: Actor, page: PageRequest, *, order_id: str | None = None
    ) -> Page[PaymentEntry]:
        require_admin(actor)
        async with self._uow(read_only=True) as uow:
            return await uow.payment_journal.find(page, order_id=order_id)

    async def check_gateway(self) -> None:
        await self._gateway.check()

    @staticmethod
    async def _order_named(
        uow: CommerceUnitOfWork, notification: PaymentNotification
    ) -> Order | None:
        """The order whose reference the notification names exactly, as it was issued."""
        prefix, _, digits = notification.order_reference.partition("-")
        if prefix != "TA" or not (digits.isascii() and digits.isdigit()) or len(digits) > 12:
            return None
        order = await uow.orders.by_number(int(digits))
        if order is None or order.reference != notification.order_reference:
            return None
        return order

    @staticmethod
    def _judge(
        order: Order | None, notification: PaymentNotification
    ) -> tuple[NotificationOutcome, str | None]:
        if (wrong := mismatch(order, notification)) is not None:
            return NotificationOutcome.MISMATCH, wrong
        assert order is not None
        if not notification.paid:
            return NotificationOutcome.RECORDED, f"status {notification.status}"
        if order.status is OrderStatus.PENDING:
            return NotificationOutcome.APPLIED, None
        return (
            NotificationOutcome.REVIEW,
            f"paid by {notification.transaction_id} while {order.status.value}"
            + (f" (paid by {order.payment_reference})" if order.payment_reference else ""),
        )

    async def _apply(
        self,
        uow: CommerceUnitOfWork,
        order: Order,
        notification: PaymentNotification,
        outcome: NotificationOutcome,
        detail: str | None,
        now: datetime,
    ) -> None:
        if outcome is NotificationOutcome.APPLIED:
            transition: OrderTransition = order.pay(
                transaction=notification.transaction_id,
                actor=f"gateway:{notification.provider}",
                at=now,
            )
            await uow.orders.update(order, transition)
            await uow.outbox.add(_paid_event(order, now))
        elif outcome in (NotificationOutcome.MISMATCH, NotificationOutcome.REVIEW):
            order.flag_for_review(detail or outcome.value, at=now)
            await uow.orders.update(order)

    async def journal_rejection(self, refused: Forbidden | Malformed) -> None:
        """Keep a refused notification's reason: forgeries are worth an admin's eye."""
        entry = PaymentEntry.rejection(self._gateway.provider, refused.detail, at=self._clock.now())
        async with self._uow() as uow:
            await uow.payment_journal.record(entry)
            await uow.commit()
