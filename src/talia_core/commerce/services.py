"""Commerce use cases: cart, coupons, checkout, the order's life and its payment.

Each use case is one transaction. Locks are always taken in the same order — cart, then
order, then coupon, then the order-number sequence — so concurrent checkouts,
cancellations and expiries queue behind each other instead of deadlocking. A refund keeps
its order locked across the payment provider's answer, so one order is refunded once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timedelta

import attrs

from talia_core.commerce.model import (
    Actor,
    Cart,
    Coupon,
    CouponKind,
    CouponRefusal,
    CouponRefused,
    NotificationOutcome,
    Order,
    OrderStatus,
    OrderTransition,
    PaymentEntry,
    PaymentForm,
    PaymentNotification,
    PaymentRequest,
    PricedCart,
    ProductRef,
    Redemption,
    RefundReceipt,
    RefundRequest,
    SalesSummary,
    mismatch,
    normalize_code,
    refund_entry,
    summarize,
)
from talia_core.commerce.ports import CommerceUnitOfWork, PaymentGateway
from talia_core.shared.clock import Clock
from talia_core.shared.errors import (
    Forbidden,
    Malformed,
    NotFound,
    RuleViolated,
)
from talia_core.shared.events import DomainEvent
from talia_core.shared.money import Money, in_currency
from talia_core.shared.pagination import Page, PageRequest
from talia_core.shared.ports import UnitOfWorkFactory

ORDER_SEQUENCE = "orders"
MAX_SUMMARY_DAYS = 366
MAX_NOTE = 500

Uow = UnitOfWorkFactory[CommerceUnitOfWork]


def _require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden("only an admin may do this")


async def _priced(uow: CommerceUnitOfWork, cart: Cart, currency: str) -> PricedCart:
    products = await uow.products.find({item.ref for item in cart.items})
    return PricedCart.of(cart, products, currency)


async def _own_order(uow: CommerceUnitOfWork, actor: Actor, order_id: str) -> Order:
    """Someone else's order is as invisible as one that does not exist."""
    order = await uow.orders.get(order_id)
    if not actor.may_act_for(order.customer_id):
        raise NotFound("order", order_id)
    return order


class CartService:
    def __init__(self, uow: Uow, clock: Clock, *, currency: str) -> None:
        self._uow = uow
        self._clock = clock
        self._currency = currency

    async def view(self, customer_id: str) -> PricedCart:
        async with self._uow(read_only=True) as uow:
            cart = await uow.carts.get_for(customer_id) or Cart.open(customer_id, at=None)
            return await _priced(uow, cart, self._currency)

    async def add_item(self, customer_id: str, ref: ProductRef, quantity: int) -> PricedCart:
        now = self._clock.now()
        async with self._uow() as uow:
            product = (await uow.products.find([ref])).get(ref)
            if product is None or not product.active:
                raise RuleViolated(
                    f"there is no {ref.kind.value} {ref.id!r} for sale",
                    {f"{ref.kind.value}_id": "unknown"},
                )
            cart = await uow.carts.get_for(customer_id) or Cart.open(customer_id, at=now)
            cart.add(ref, quantity, at=now)
            await uow.carts.save(cart)
            priced = await _priced(uow, cart, self._currency)
            await uow.commit()
        return priced

    async def remove_item(self, customer_id: str, item_id: str) -> PricedCart:
        now = self._clock.now()
        async with self._uow() as uow:
            cart = await uow.carts.get_for(customer_id)
            if cart is None:
                raise NotFound("cart item", item_id)
            cart.remove(item_id, at=now)
            await uow.carts.save(cart)
            priced = await _priced(uow, cart, self._currency)
            await uow.commit()
        return priced


@attrs.frozen
class CouponCheck:
    """Whether a code would give a discount on the customer's cart now, and if not why."""

    code: str
    refusal: CouponRefusal | None
    discount: Money
    subtotal: Money

    @property
    def valid(self) -> bool:
        return self.refusal is None


@attrs.frozen
class CouponTerms:
    """What an admin writes when creating a coupon."""

    code: str
    kind: CouponKind
    percent_off: int | None = None
    amount_off: Money | None = None
    minimum_order: Money | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    max_redemptions: int | None = None
    max_per_customer: int | None = None
    active: bool = True
    applies_to: tuple[ProductRef, ...] = ()


class CouponService:
    def __init__(self, uow: Uow, clock: Clock, *, currency: str) -> None:
        self._uow = uow
        self._clock = clock
        self._currency = currency

    async def validate(self, customer_id: str, code: str) -> CouponCheck:
        """Checks the code against the cart as it is now; checkout checks again, atomically."""
        now = self._clock.now()
        async with self._uow(read_only=True) as uow:
            cart = await uow.carts.get_for(customer_id) or Cart.open(customer_id, at=now)
            priced = await _priced(uow, cart, self._currency)
            bought = [line for cl in priced.lines if (line := cl.line) is not None]
            subtotal = priced.subtotal
            coupon = await uow.coupons.by_code(normalize_code(code))
            if coupon is None:
                return CouponCheck(
                    normalize_code(code),
                    CouponRefusal.UNKNOWN,
                    Money.zero(self._currency),
                    subtotal,
                )
            used = await uow.redemptions.live_count(coupon.id, customer_id)
        refusal = coupon.refusal(bought, self._currency, used_by_customer=used, at=now)
        discount = (
            coupon.discount_for(bought, self._currency)
            if refusal is None
            else Money.zero(self._currency)
        )
        return CouponCheck(coupon.code, refusal, discount, subtotal)

    async def create(self, actor: Actor, terms: CouponTerms) -> Coupon:
        _require_admin(actor)
        in_currency("amount_off", terms.amount_off, self._currency)
        in_currency("minimum_order", terms.minimum_order, self._currency)
        coupon = Coupon.create(
            code=terms.code,
            kind=terms.kind,
            percent_off_bp=None if terms.percent_off is None else terms.percent_off * 100,
            amount_off=terms.amount_off,
            minimum_order=terms.minimum_order,
            valid_from=terms.valid_from,
            valid_until=terms.valid_until,
            max_redemptions=terms.max_redemptions,
            max_per_customer=terms.max_per_customer,
            active=terms.active,
            applies_to=terms.applies_to,
            at=self._clock.now(),
        )
        async with self._uow() as uow:
            await uow.coupons.add(coupon)
            await uow.commit()
        return coupon

    async def update(
        self,
        actor: Actor,
        coupon_id: str,
        *,
        active: bool | None = None,
        valid_until: datetime | None = None,
        max_redemptions: int | None = None,
        max_per_customer: int | None = None,
        minimum_order: Money | None = None,
    ) -> Coupon:
        _require_admin(actor)
        in_currency("minimum_order", minimum_order, self._currency)
        async with self._uow() as uow:
            coupon = await uow.coupons.get(coupon_id)
            coupon.revise(
                at=self._clock.now(),
                active=active,
                valid_until=valid_until,
                max_redemptions=max_redemptions,
                max_per_customer=max_per_customer,
                minimum_order=minimum_order,
            )
            await uow.coupons.update(coupon)
            await uow.commit()
        return coupon

    async def list(self, actor: Actor, page: PageRequest, *, active: bool | None) -> Page[Coupon]:
        _require_admin(actor)
        async with self._uow(read_only=True) as uow:
            return await uow.coupons.find(page, active=active)


@attrs.frozen
class ExpiryReport:
    examined: int
    expired: int


Progress = Callable[[int, int], None]


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


def _refund_note(receipt: RefundReceipt, note: str | None) -> str:
    """The refund's step in the history: the provider's refund id first, then the admin's note."""
    said = f"{receipt.provider} refund {receipt.refund_id}"
    return (f"{said}: {note}" if note else said)[:MAX_NOTE]


class OrderService:
    def __init__(
        self,
        uow: Uow,
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
            lines = (await _priced(uow, cart, self._currency)).lines_to_buy()
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
            return await _own_order(uow, actor, order_id)

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
        _require_admin(actor)
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
            order = await _own_order(uow, actor, order_id)
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
        """
        _require_admin(actor)
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
        _require_admin(actor)
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
        _require_admin(actor)
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


@attrs.frozen
class NotificationResult:
    outcome: NotificationOutcome
    order_id: str | None


class PaymentMismatch(RuleViolated):
    """A genuine notification that does not fit its order: kept, flagged, not applied."""


class PaymentService:
    def __init__(self, uow: Uow, clock: Clock, gateway: PaymentGateway) -> None:
        self._uow = uow
        self._clock = clock
        self._gateway = gateway

    @property
    def provider(self) -> str:
        return self._gateway.provider

    async def start_payment(self, actor: Actor, order_id: str) -> PaymentForm:
        """Open a payment at the provider for the caller's pending order."""
        async with self._uow(read_only=True) as uow:
            order = await _own_order(uow, actor, order_id)
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
        _require_admin(actor)
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
        entry = PaymentEntry(
            provider=self._gateway.provider,
            outcome=NotificationOutcome.REJECTED,
            received_at=self._clock.now(),
            detail=refused.detail[:500],
        )
        async with self._uow() as uow:
            await uow.payment_journal.record(entry)
            await uow.commit()
