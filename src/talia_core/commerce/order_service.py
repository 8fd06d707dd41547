"""Orders: checkout, the order's life (cancel, fulfil, refund, expire) and sales.

Each use case is one transaction. Locks are always taken in the same order — cart, then
order, then coupon, then the order-number sequence — so concurrent checkouts,
cancellations and expiries queue behind each other instead of deadlocking. A refund keeps
its order locked across the payment provider's answer, so one order is refunded once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta

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
from talia_core.shared.money import Money
from talia_core.shared.pagination import Page, PageRequest

ORDER_SEQUENCE = "orders"
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
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._currency = currency
        self.pending_lifetime = pending_lifetime
        self._gateway = gateway

    async def checkout(self, actor: Actor, *, coupon_code: str | None = None) -> Order:
        """Turn the caller's cart into a pending order at today's prices.

        The coupon row stays locked from the limit check to the commit, so however many
        checkouts run at once it is never redeemed past its total or per-customer limit.
        """
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
                used = await uow.redemptions.live_count(coupon.id, actor.id)
                discount = coupon.redeem(lines, self._currency, used_by_customer=used, at=now)
                await uow.coupons.update(coupon)
            order = Order.place(
                number=await uow.sequences.next_value(ORDER_SEQUENCE),
                customer_id=actor.id,
                lines=lines,
                currency=self._currency,
                discount=discount,
                coupon=coupon,
                at=now,
            )
            await uow.orders.add(order)
            if coupon is not None:
                await uow.redemptions.add(Redemption(coupon.id, actor.id, order.id, now))
            cart.clear(at=now)
            await uow.carts.save(cart)
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
        """Give a paid order's money back through the provider, then mark it refunded.

        The order stays locked from the check to the commit, the provider's call included, so
        two admins refunding one order at once ask the provider once: the second finds the
        order refunded (``Conflict``). When the provider refuses (``RuleViolated``) or cannot
        be reached (``ExternalServiceUnavailable``) the error propagates and nothing changes.
        A note longer than ``MAX_REFUND_NOTE`` is refused before the provider is asked.
        """
        require_admin(actor)
        _check_refund_note(note)
        async with self._uow() as uow:
            order = await uow.orders.get(order_id)
            order.check_move_to(OrderStatus.REFUNDED)
            if order.payment_reference is None:
                raise RuleViolated(
                    f"order {order.reference} has no payment at the provider to give back",
                    {"order_id": "no payment reference"},
                )
            receipt = await self._gateway.refund(
                RefundRequest(
                    order_reference=order.reference,
                    transaction_id=order.payment_reference,
                    amount=order.total,
                    comment=note,
                )
            )
            now = self._clock.now()
            transition = order.refund(actor=actor.id, at=now, note=_refund_note(receipt, note))
            # Keyed by the provider's id of the refund: the provider's own notification of
            # that transaction and status, should one come, is then a duplicate.
            await uow.payment_journal.record(refund_entry(order, receipt, at=now))
            await uow.orders.update(order, transition)
            await uow.outbox.add(
                DomainEvent("order.refunded", now, {"order_id": order.id, "number": order.number})
            )
            await uow.commit()
        return order

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
        if not order.gives_back_coupon or order.coupon_id is None:
            return
        redemption = await uow.redemptions.for_order(order.id)
        coupon = await uow.coupons.get(order.coupon_id)
        if redemption is None or redemption.released_at is not None:
            return
        redemption.released_at = at
        await uow.redemptions.update(redemption)
        coupon.give_back(at=at)
        await uow.coupons.update(coupon)
