"""Orders: checkout, the order's life (cancel, fulfil, refund, expire) and sales.

Each use case is one transaction. Locks are always taken in the same order — cart, then
order, then coupon, then its redemptions, then the order-number sequence — so concurrent
checkouts, cancellations and expiries queue behind each other instead of deadlocking.

A refund holds no lock while the payment provider answers. The admin's request moves the
order to ``refunding`` and records a job in one short transaction; the job asks the
provider (retried while it is away; the gateway's refund is idempotent per order) and a
second short transaction moves the order to ``refunded``, or back to ``paid`` when the
provider refuses for good. Meanwhile other writes to the order (a repeated notification, a
fulfilment, which ``refunding`` refuses) go through at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

import attrs

from talia_core.commerce.actor import Actor, require_admin
from talia_core.commerce.coupon import CouponRefusal, CouponRefused, Redemption, normalize_code
from talia_core.commerce.lookups import own_order, priced
from talia_core.commerce.order import MAX_NOTE, Order, OrderStatus, order_reference
from talia_core.commerce.payment import (
    MAX_PROVIDER,
    MAX_TRANSACTION_ID,
    RefundReceipt,
    RefundRequest,
)
from talia_core.commerce.payment_journal import refund_entry
from talia_core.commerce.ports import CommerceUnitOfWork, CommerceUnits, PaymentGateway
from talia_core.commerce.sales import SalesSummary, summarize
from talia_core.shared.clock import Clock
from talia_core.shared.errors import NotFound, RuleViolated
from talia_core.shared.events import DomainEvent
from talia_core.shared.ids import new_id
from talia_core.shared.jobs import Job, JobHandler, job_id_for
from talia_core.shared.money import Money
from talia_core.shared.pagination import Page, PageRequest
from talia_core.shared.transactions import Backoff, no_retry, retrying

ORDER_SEQUENCE = "orders"
REFUND_JOB = "commerce.refund"
REFUND_ACTOR = "system:refund"
MAX_SUMMARY_DAYS = 366
MAX_REFUND_NOTE = MAX_NOTE - (MAX_PROVIDER + len(" refund : ") + MAX_TRANSACTION_ID)
"""An admin's refund note is at most 394 characters: in the order's history it follows the
provider's name and refund id (``izipay refund <id>: <note>``) and the whole fits a note."""


@attrs.frozen
class ExpiryReport:
    examined: int
    expired: int


Progress = Callable[[int, int], None]


def _refund_note(receipt: RefundReceipt, note: str | None) -> str:
    """The refund's step in the history: the provider's refund id first, then the admin's note."""
    said = f"{receipt.provider} refund {receipt.refund_id}"
    return f"{said}: {note}" if note else said


def _check_refund_note(note: str | None) -> None:
    if note is not None and len(note) > MAX_REFUND_NOTE:
        raise RuleViolated(
            f"note must be at most {MAX_REFUND_NOTE} characters", {"note": "too long"}
        )


class OrderService:
    def __init__(
        self,
        uow: CommerceUnits,
        clock: Clock,
        *,
        currency: str,
        pending_lifetime: timedelta,
        gateway: PaymentGateway,
        backoff: Backoff = no_retry,
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._currency = currency
        self.pending_lifetime = pending_lifetime
        self._gateway = gateway
        self._backoff = backoff
        self._wake = wake

    async def checkout(self, actor: Actor, *, coupon_code: str | None = None) -> Order:
        """Turn the caller's cart into a pending order at today's prices.

        Everything that concerns only this customer comes first: the cart (locked), its
        prices, the coupon's terms and the customer's uses of it (read, not locked), the
        emptied cart. Only then come the writes every checkout contends for, each holding its
        row until the commit: the coupon's use (``take_use``, one conditional write that
        never passes either limit however many checkouts run at once) and the order number.
        """
        return await retrying(lambda: self._checkout(actor, coupon_code), self._backoff)

    async def _checkout(self, actor: Actor, coupon_code: str | None) -> Order:
        now = self._clock.now()
        async with self._uow() as uow:
            cart = await uow.carts.get_for(actor.id)
            if cart is None or cart.is_empty:
                raise RuleViolated("the cart is empty", {"cart": "empty"})
            lines = (await priced(uow, cart, self._currency)).lines_to_buy()
            coupon, discount = None, Money.zero(self._currency)
            if coupon_code is not None and coupon_code.strip():
                coupon = await uow.coupons.by_code(normalize_code(coupon_code))
                if coupon is None:
                    raise CouponRefused(CouponRefusal.UNKNOWN)
                used = 0
                if coupon.max_per_customer is not None:
                    used = await uow.redemptions.live_count(coupon.id, actor.id)
                refusal = coupon.refusal(lines, self._currency, used_by_customer=used, at=now)
                if refusal is not None:
                    raise CouponRefused(refusal)
                discount = coupon.discount_for(lines, self._currency)
            cart.clear(at=now)
            await uow.carts.save(cart)
            order_id = new_id()
            if coupon is not None:
                refusal = await uow.coupons.take_use(Redemption(coupon.id, actor.id, order_id, now))
                if refusal is not None:  # used up since its terms were read
                    raise CouponRefused(refusal)
            order = Order.place(
                number=await uow.sequences.next_value(ORDER_SEQUENCE),
                customer_id=actor.id,
                lines=lines,
                currency=self._currency,
                discount=discount,
                coupon=coupon,
                at=now,
                order_id=order_id,
            )
            await uow.orders.add(order)
            await uow.commit()
        return order

    async def get(self, actor: Actor, order_id: str) -> Order:
        async with self._uow(read_only=True) as uow:
            return await own_order(uow, actor, order_id)

    async def get_by_number(self, actor: Actor, number: int) -> Order:
        """The order numbered ``number`` (``TA-000123``); someone else's is as invisible as
        one that does not exist: the same ``NotFound``, word for word."""
        async with self._uow(read_only=True) as uow:
            order = await uow.orders.by_number(number)
        if order is None or not actor.may_act_for(order.customer_id):
            raise NotFound("order", order_reference(number))
        return order

    async def list_own(
        self, actor: Actor, page: PageRequest, *, status: OrderStatus | None = None
    ) -> Page[Order]:
        async with self._uow(read_only=True) as uow:
            return await uow.orders.find(page, customer_id=actor.id, status=status)

    async def list_all(
        self,
        actor: Actor,
        page: PageRequest,
        *,
        customer_id: str | None = None,
        status: OrderStatus | None = None,
        placed_from: datetime | None = None,
        placed_until: datetime | None = None,
    ) -> Page[Order]:
        require_admin(actor)
        async with self._uow(read_only=True) as uow:
            return await uow.orders.find(
                page,
                customer_id=customer_id,
                status=status,
                placed_from=placed_from,
                placed_until=placed_until,
            )

    async def cancel(self, actor: Actor, order_id: str) -> Order:
        now = self._clock.now()
        async with self._uow() as uow:
            order = await own_order(uow, actor, order_id)
            transition = order.cancel(actor=actor.id, at=now)
            await uow.orders.update(order, transition)
            await self._give_back_coupon(uow, order, now)
            await uow.commit()
        return order

    async def refund(self, actor: Actor, order_id: str, *, note: str | None = None) -> Order:
        """Start giving a paid order's money back: the order becomes ``refunding`` and a job
        will ask the provider (``complete_refund``).

        Asked again while the refund runs, it answers the order as it is and starts nothing
        more. A note longer than ``MAX_REFUND_NOTE`` is refused before anything changes.
        """
        require_admin(actor)
        _check_refund_note(note)
        order = await retrying(lambda: self._start_refund(actor, order_id, note), self._backoff)
        self._wake()  # the refund's job runs now, not at the next poll
        return order

    async def _start_refund(self, actor: Actor, order_id: str, note: str | None) -> Order:
        now = self._clock.now()
        async with self._uow() as uow:
            order = await uow.orders.get(order_id)
            if order.status is OrderStatus.REFUNDING:
                return order
            transition = order.start_refund(actor=actor.id, at=now, note=note)
            if order.payment_reference is None:  # the unit rolls the move back
                raise RuleViolated(
                    f"order {order.reference} has no payment at the provider to give back",
                    {"order_id": "no payment reference"},
                )
            await uow.orders.update(order, transition)
            # One job per refund started: keyed by the step that started it.
            await uow.jobs.add(
                Job.new(
                    REFUND_JOB,
                    {"order_id": order.id, "actor": actor.id, "note": note},
                    at=now,
                    job_id=job_id_for(f"{REFUND_JOB}:{transition.id}"),
                )
            )
            await uow.commit()
        return order

    async def complete_refund(self, order_id: str, *, actor: str, note: str | None) -> None:
        """Ask the provider for a ``refunding`` order's money, then record its answer.

        No transaction is open during the call. The provider's receipt makes the order
        ``refunded`` (its refund id in the history, a ``refunded`` journal entry, the
        ``order.refunded`` event); a refusal (``RuleViolated``) makes it ``paid`` again with
        the reason in its history. When the provider cannot be reached the error propagates
        and the job runs again later; an order no longer ``refunding`` is left as it is.
        """
        async with self._uow(read_only=True) as uow:
            order = await uow.orders.get(order_id)
        if order.status is not OrderStatus.REFUNDING or order.payment_reference is None:
            return
        request = RefundRequest(
            order_reference=order.reference,
            transaction_id=order.payment_reference,
            amount=order.total,
            comment=note,
        )
        try:
            receipt = await self._gateway.refund(request)
        except RuleViolated as refused:
            reason = refused.detail
            await retrying(lambda: self._keep_payment(order_id, reason), self._backoff)
            return
        await retrying(
            lambda: self._finish_refund(order_id, receipt, actor=actor, note=note), self._backoff
        )

    async def _finish_refund(
        self, order_id: str, receipt: RefundReceipt, *, actor: str, note: str | None
    ) -> None:
        now = self._clock.now()
        async with self._uow() as uow:
            order = await uow.orders.get(order_id)
            if order.status is not OrderStatus.REFUNDING:
                return
            transition = order.finish_refund(actor=actor, at=now, note=_refund_note(receipt, note))
            # Keyed by the provider's id of the refund: the provider's own notification of
            # that transaction and status, should one come, is then a duplicate.
            await uow.payment_journal.record(refund_entry(order, receipt, at=now))
            await uow.orders.update(order, transition)
            await uow.outbox.add(
                DomainEvent("order.refunded", now, {"order_id": order.id, "number": order.number})
            )
            await uow.commit()

    async def _keep_payment(self, order_id: str, reason: str) -> None:
        now = self._clock.now()
        async with self._uow() as uow:
            order = await uow.orders.get(order_id)
            if order.status is not OrderStatus.REFUNDING:
                return
            transition = order.finish_refund(
                actor=REFUND_ACTOR, at=now, refused=f"refund refused: {reason}"
            )
            await uow.orders.update(order, transition)
            await uow.commit()

    def job_handlers(self) -> dict[str, JobHandler]:
        """What the job runner calls for each kind of job this context records."""

        async def refund(payload: Mapping[str, Any]) -> None:
            note = payload.get("note")
            await self.complete_refund(
                str(payload["order_id"]),
                actor=str(payload["actor"]),
                note=str(note) if note is not None else None,
            )

        return {REFUND_JOB: refund}

    async def fulfil(self, actor: Actor, order_id: str) -> Order:
        require_admin(actor)
        now = self._clock.now()
        async with self._uow() as uow:
            order = await uow.orders.get(order_id)
            transition = order.fulfil(actor=actor.id, at=now)
            await uow.orders.update(order, transition)
            await uow.commit()
        return order

    async def expire_stale(
        self, *, batch_size: int = 200, progress: Progress | None = None
    ) -> ExpiryReport:
        """Expire pending orders older than the pending lifetime, one transaction each, so an
        order paid meanwhile is simply skipped (its lock is taken and its state re-read)."""
        cutoff = self._clock.now() - self.pending_lifetime
        async with self._uow(read_only=True) as uow:
            stale = await uow.orders.pending_placed_before(cutoff, limit=100_000)
        expired = 0
        for done, order_id in enumerate(stale, start=1):
            now = self._clock.now()
            async with self._uow() as uow:
                order = await uow.orders.get(order_id)
                if order.status is OrderStatus.PENDING and order.placed_at < cutoff:
                    transition = order.expire(at=now)
                    await uow.orders.update(order, transition)
                    await self._give_back_coupon(uow, order, now)
                    await uow.commit()
                    expired += 1
            if progress is not None and (done % batch_size == 0 or done == len(stale)):
                progress(done, len(stale))
        return ExpiryReport(examined=len(stale), expired=expired)

    async def sales_summary(self, actor: Actor, first: date, last: date) -> SalesSummary:
        """Days from ``first`` to ``last`` inclusive, in UTC."""
        require_admin(actor)
        if last < first or (last - first).days >= MAX_SUMMARY_DAYS:
            raise RuleViolated(
                f"the period is 1 to {MAX_SUMMARY_DAYS} days, 'from' not after 'to'",
                {"to": "out of range"},
            )
        start = datetime.combine(first, time(), tzinfo=self._clock.now().tzinfo)
        end = datetime.combine(last + timedelta(days=1), time(), tzinfo=start.tzinfo)
        async with self._uow(read_only=True) as uow:
            sales = await uow.orders.sales(start, end)
        return SalesSummary(first, last, self._currency, summarize(sales, self._currency))

    @staticmethod
    async def _give_back_coupon(uow: CommerceUnitOfWork, order: Order, at: datetime) -> None:
        if order.gives_back_coupon and order.coupon_id is not None:
            await uow.coupons.give_back(order.coupon_id, order.id, at=at)
