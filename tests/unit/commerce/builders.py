"""A small shop over the in-memory database: the vocabulary the commerce tests share."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import attrs

from adapters.memory.database import InMemoryDatabase
from adapters.memory.unit_of_work import InMemoryUnitOfWork
from adapters.payments import krypton
from talia_core.catalog.model import Plan, Template
from talia_core.catalog.services import CatalogService
from talia_core.commerce.actor import Actor
from talia_core.commerce.cart_service import CartService
from talia_core.commerce.coupon import Coupon, CouponKind, CouponRefusal
from talia_core.commerce.coupon_service import CouponService, CouponTerms
from talia_core.commerce.order import Order, OrderStatus, OrderTransition
from talia_core.commerce.order_service import OrderService
from talia_core.commerce.payment import (
    PAID,
    PaymentForm,
    PaymentNotification,
    PaymentRequest,
    RefundReceipt,
    RefundRequest,
)
from talia_core.commerce.payment_journal import PaymentEntry
from talia_core.commerce.payment_service import NotificationResult, PaymentService
from talia_core.commerce.products import Line, ProductKind, ProductRef
from talia_core.shared.clock import FakeClock
from talia_core.shared.errors import (
    ExternalServiceUnavailable,
    Forbidden,
    Malformed,
    RuleViolated,
)
from talia_core.shared.jobs import JobRunner
from talia_core.shared.money import Money
from talia_core.shared.pagination import PageRequest

PEN = "PEN"
PENDING_LIFETIME = timedelta(hours=2)

ANA = Actor("customer-ana", email="ana@example.com")
LUIS = Actor("customer-luis", email="luis@example.com")
ADMIN = Actor("admin-1", is_admin=True, email="admin@example.com")


def pen(amount: int) -> Money:
    return Money(amount, PEN)


def ref(product: Plan | Template) -> ProductRef:
    kind = ProductKind.PLAN if isinstance(product, Plan) else ProductKind.TEMPLATE
    return ProductRef(kind, product.id)


def placed_order(at: datetime, *, number: int = 1) -> Order:
    """A pending order of one 50.00 plan, built by the model alone."""
    line = Line(ProductRef(ProductKind.PLAN, "plan-1"), "Celebration", pen(5_000), 1)
    return Order.place(
        number=number,
        customer_id=ANA.id,
        lines=[line],
        currency=PEN,
        discount=pen(0),
        coupon=None,
        at=at,
    )


# Each move of the model, by the status it leads to.
def _to_paid(order: Order, at: datetime) -> OrderTransition:
    """A pending order's payment; from ``refunding``, the provider refusing the refund."""
    if order.status is OrderStatus.REFUNDING:
        return order.finish_refund(actor="system:refund", at=at, refused="refund refused")
    return order.pay(transaction="tx-1", actor="gateway:fake", at=at)


MODEL_MOVES: dict[OrderStatus, Callable[[Order, datetime], OrderTransition]] = {
    OrderStatus.PAID: _to_paid,
    OrderStatus.CANCELLED: lambda o, at: o.cancel(actor=ANA.id, at=at),
    OrderStatus.EXPIRED: lambda o, at: o.expire(at=at),
    OrderStatus.FULFILLED: lambda o, at: o.fulfil(actor=ADMIN.id, at=at),
    OrderStatus.REFUNDING: lambda o, at: o.start_refund(actor=ADMIN.id, at=at),
    OrderStatus.REFUNDED: lambda o, at: o.finish_refund(actor=ADMIN.id, at=at),
}

# The legal moves that take a new order to each status.
PATHS: dict[OrderStatus, list[OrderStatus]] = {
    OrderStatus.PENDING: [],
    OrderStatus.PAID: [OrderStatus.PAID],
    OrderStatus.FULFILLED: [OrderStatus.PAID, OrderStatus.FULFILLED],
    OrderStatus.REFUNDING: [OrderStatus.PAID, OrderStatus.REFUNDING],
    OrderStatus.REFUNDED: [OrderStatus.PAID, OrderStatus.REFUNDING, OrderStatus.REFUNDED],
    OrderStatus.CANCELLED: [OrderStatus.CANCELLED],
    OrderStatus.EXPIRED: [OrderStatus.EXPIRED],
}


class FakePaymentGateway:
    """A gateway that passes the payment-gateway contract and can be told what to do.

    It reads notifications signed the way Izipay signs them, with ``secret``, unless told what
    to read next (``answer``: a notification, or the refusal to raise). It keeps the payments
    it was asked to open and the refunds it was asked for, and grants each refund of a named
    transaction and a positive amount unless told to refuse or fail, once per order: asked
    again for an order it refunded, it answers that refund's receipt.
    """

    provider = "fake"
    public_key = "public-key"
    secret = "fake-gateway-secret"

    def __init__(self) -> None:
        self.requests: list[PaymentRequest] = []
        self.answer: PaymentNotification | Forbidden | Malformed | None = None
        self.refunds: list[RefundRequest] = []
        self.refund_failure: RuleViolated | ExternalServiceUnavailable | None = None
        self.refunded: dict[str, RefundReceipt] = {}
        self.hold_refunds: asyncio.Event | None = None
        self.refund_asked = asyncio.Event()

    async def create_payment(self, request: PaymentRequest) -> PaymentForm:
        self.requests.append(request)
        return PaymentForm(self.provider, f"form-{request.order_reference}", self.public_key)

    def refuse_refunds(self, code: str = "PSP_104") -> None:
        self.refund_failure = RuleViolated(f"the provider refused: {code}", {"payment": code})

    def fail_refunds(self) -> None:
        self.refund_failure = ExternalServiceUnavailable(self.provider, "connection reset")

    async def refund(self, request: RefundRequest) -> RefundReceipt:
        await asyncio.sleep(0)  # the provider answers later: whatever else runs goes on
        self.refunds.append(request)
        self.refund_asked.set()
        if self.hold_refunds is not None:
            await self.hold_refunds.wait()
        if self.refund_failure is not None:
            raise self.refund_failure
        if not request.transaction_id:
            raise RuleViolated("a refund needs its transaction", {"transaction_id": "missing"})
        if request.amount.amount <= 0:
            raise RuleViolated("a refund must be for more than zero", {"amount": "not positive"})
        receipt = self.refunded.get(request.order_reference) or RefundReceipt(
            self.provider, f"refund-{len(self.refunded) + 1}", PAID
        )
        self.refunded[request.order_reference] = receipt
        return receipt

    def read_notification(self, fields: Mapping[str, str]) -> PaymentNotification:
        if self.answer is None:
            return krypton.read_notification(fields, provider=self.provider, key=self.secret)
        if isinstance(self.answer, Forbidden | Malformed):
            raise self.answer
        return self.answer

    async def check(self) -> None:
        return None


@attrs.define
class Shop:
    """The services of one in-memory database, and shortcuts to put a shop in a given state."""

    database: InMemoryDatabase
    clock: FakeClock
    catalog: CatalogService
    carts: CartService
    coupons: CouponService
    orders: OrderService
    payments: PaymentService
    gateway: FakePaymentGateway

    # ------------------------------------------------------------------------- catalog

    async def plan(
        self, amount: int = 5_000, *, name: str = "Celebration", active: bool = True
    ) -> Plan:
        return await self.catalog.create_plan(
            name=name, price=pen(amount), features=["RSVP"], active=active
        )

    async def template(
        self, amount: int = 3_000, *, name: str = "Floral", active: bool = True
    ) -> Template:
        return await self.catalog.create_template(
            name=name, category="weddings", price=pen(amount), active=active
        )

    # ---------------------------------------------------------------------------- cart

    async def fill(self, actor: Actor, *products: Plan | Template, quantity: int = 1) -> None:
        for product in products:
            await self.carts.add_item(actor.id, ref(product), quantity)

    # ------------------------------------------------------------------------- coupons

    async def coupon(self, code: str = "HOLA10", **terms: Any) -> Coupon:
        """A coupon an admin creates: 10 % off everything unless ``terms`` say otherwise."""
        terms.setdefault("kind", CouponKind.PERCENTAGE)
        if terms["kind"] is CouponKind.PERCENTAGE:
            terms.setdefault("percent_off", 10)
        return await self.coupons.create(ADMIN, CouponTerms(code=code, **terms))

    async def refusing(self, reason: CouponRefusal, actor: Actor = ANA) -> str:
        """Fill ``actor``'s cart with a 50.00 plan (none for ``EMPTY_CART``) and return a
        code the shop refuses for ``reason`` on that cart now."""
        plan = await self.plan()
        if reason is not CouponRefusal.EMPTY_CART:
            await self.fill(actor, plan)
        match reason:
            case CouponRefusal.UNKNOWN:
                return "NOSUCHCODE"
            case CouponRefusal.INACTIVE:
                coupon = await self.coupon(active=False)
            case CouponRefusal.NOT_STARTED:
                coupon = await self.coupon(valid_from=self.clock.now() + timedelta(days=1))
            case CouponRefusal.EXPIRED:
                coupon = await self.coupon(valid_until=self.clock.now())
            case CouponRefusal.EXHAUSTED:
                coupon = await self.coupon(max_redemptions=1)
                other = Actor(f"not-{actor.id}")
                await self.pending(other, plan, coupon_code=coupon.code)
            case CouponRefusal.CUSTOMER_LIMIT_REACHED:
                coupon = await self.coupon(max_per_customer=1)
                await self.orders.checkout(actor, coupon_code=coupon.code)
                await self.fill(actor, plan)
            case CouponRefusal.BELOW_MINIMUM:
                coupon = await self.coupon(minimum_order=pen(5_001))
            case CouponRefusal.NOT_APPLICABLE:
                coupon = await self.coupon(applies_to=(ref(await self.template()),))
            case CouponRefusal.EMPTY_CART:
                coupon = await self.coupon()
        return coupon.code

    # -------------------------------------------------------------------------- orders

    async def pending(
        self, actor: Actor, *products: Plan | Template, coupon_code: str | None = None
    ) -> Order:
        """``actor``'s new order of ``products``; of one new 50.00 plan when none are given."""
        if not products:
            products = (await self.plan(),)
        await self.fill(actor, *products)
        return await self.orders.checkout(actor, coupon_code=coupon_code)

    async def paid(self, actor: Actor, *products: Plan | Template) -> Order:
        order = await self.pending(actor, *products)
        await self.notify(self.notification(order))
        return await self.stored_order(order.id)

    async def in_status(self, status: OrderStatus, actor: Actor = ANA) -> Order:
        """An order of ``actor`` brought to ``status`` by the shop's own use cases.

        ``EXPIRED`` moves the clock past the pending lifetime and runs the expiry."""
        if status is OrderStatus.PENDING:
            return await self.pending(actor)
        if status is OrderStatus.CANCELLED:
            return await self.orders.cancel(actor, (await self.pending(actor)).id)
        if status is OrderStatus.EXPIRED:
            order = await self.pending(actor)
            self.clock.advance(PENDING_LIFETIME + timedelta(minutes=1))
            await self.orders.expire_stale()
            return await self.stored_order(order.id)
        order = await self.paid(actor)
        if status is OrderStatus.FULFILLED:
            return await self.orders.fulfil(ADMIN, order.id)
        if status is OrderStatus.REFUNDING:
            return await self.orders.refund(ADMIN, order.id)
        if status is OrderStatus.REFUNDED:
            return await self.refunded(order)
        return order

    async def refunded(self, order: Order, *, note: str | None = None) -> Order:
        """``order`` refunded: the admin's request, then the job that asks the provider."""
        await self.orders.refund(ADMIN, order.id, note=note)
        await self.run_jobs()
        return await self.stored_order(order.id)

    async def run_jobs(self) -> int:
        """Run the jobs due now (a failed one is due again a second later)."""
        runner = JobRunner(
            partial(InMemoryUnitOfWork, self.database),
            self.clock,
            self.orders.job_handlers(),
            lambda attempts, error: 1.0 if attempts < 5 else None,
        )
        return await runner.run_due(100)

    # ------------------------------------------------------------------------ payments

    def notification(
        self,
        order: Order,
        *,
        transaction: str | None = None,
        status: str = PAID,
        amount: Money | None = None,
        reference: str | None = None,
    ) -> PaymentNotification:
        """What the provider says of a payment of ``order``: by default, paid in full."""
        return PaymentNotification(
            provider=self.gateway.provider,
            order_reference=order.reference if reference is None else reference,
            transaction_id=transaction or f"tx-{order.reference}",
            status=status,
            amount=order.total if amount is None else amount,
        )

    async def notify(self, notification: PaymentNotification) -> NotificationResult:
        self.gateway.answer = notification
        return await self.payments.receive_notification({"kr-answer": "{}"})

    # ------------------------------------------------------------ what was committed

    async def stored_order(self, order_id: str) -> Order:
        async with InMemoryUnitOfWork(self.database, read_only=True) as uow:
            return await uow.orders.get(order_id)

    async def stored_orders(self) -> list[Order]:
        """Every order, by number."""
        async with InMemoryUnitOfWork(self.database, read_only=True) as uow:
            page = await uow.orders.find(PageRequest(limit=200))
        return sorted(page.items, key=lambda order: order.number)

    async def stored_coupon(self, coupon_id: str) -> Coupon:
        async with InMemoryUnitOfWork(self.database, read_only=True) as uow:
            return await uow.coupons.get(coupon_id)

    async def journal(self) -> list[PaymentEntry]:
        """Every payment journal entry (the clock stands still: their order is not told)."""
        page = await self.payments.journal(ADMIN, PageRequest(limit=200))
        return list(page.items)

    async def cart_refs(self, actor: Actor) -> list[tuple[ProductRef, int]]:
        cart = (await self.carts.view(actor.id)).cart
        return [(item.ref, item.quantity) for item in cart.items]
