"""Carts, coupons, orders and payment notifications, and the moves each of them allows.

Amounts are ``Money`` in the shop's one currency. Totals are always derived from lines;
the only amount an order holds by itself is the discount its coupon gave at checkout.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime

import attrs

from talia_core.shared.errors import Conflict, NotFound, RuleViolated
from talia_core.shared.ids import new_id
from talia_core.shared.money import Money

MAX_QUANTITY = 100
MAX_CART_LINES = 50


class ProductKind(enum.StrEnum):
    PLAN = "plan"
    TEMPLATE = "template"


@attrs.frozen
class ProductRef:
    kind: ProductKind
    id: str

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.id}"

    @classmethod
    def parse(cls, text: str) -> ProductRef:
        kind, _, key = text.partition(":")
        return cls(ProductKind(kind), key)


@attrs.frozen
class Product:
    """What checkout needs to know of a catalog entry, read at the moment of buying."""

    ref: ProductRef
    name: str
    price: Money
    active: bool


@attrs.frozen
class Actor:
    """Who asks: a customer acting on their own things, or an admin acting on anyone's."""

    id: str
    is_admin: bool = False
    email: str | None = None

    def may_act_for(self, customer_id: str) -> bool:
        return self.is_admin or self.id == customer_id


# ---------------------------------------------------------------------------------- cart


@attrs.define
class CartItem:
    kind: ProductKind
    product_id: str
    quantity: int
    added_at: datetime
    id: str = attrs.field(factory=new_id)

    @property
    def ref(self) -> ProductRef:
        return ProductRef(self.kind, self.product_id)


def _quantity(quantity: int) -> int:
    if isinstance(quantity, bool) or not 1 <= quantity <= MAX_QUANTITY:
        raise RuleViolated(
            f"quantity must be between 1 and {MAX_QUANTITY}", {"quantity": "out of range"}
        )
    return quantity


@attrs.define
class Cart:
    """One per customer. It holds references and quantities; prices come from the catalog.

    ``updated_at`` is ``None`` only for the empty cart of a customer who never had one.
    """

    customer_id: str
    updated_at: datetime | None
    items: list[CartItem] = attrs.field(factory=list)
    id: str = attrs.field(factory=new_id)

    @classmethod
    def open(cls, customer_id: str, *, at: datetime | None) -> Cart:
        return cls(customer_id=customer_id, updated_at=at)

    @property
    def is_empty(self) -> bool:
        return not self.items

    def add(self, ref: ProductRef, quantity: int, *, at: datetime) -> CartItem:
        """Adding a product already in the cart raises its quantity."""
        _quantity(quantity)
        for item in self.items:
            if item.ref == ref:
                item.quantity = _quantity(item.quantity + quantity)
                self.updated_at = at
                return item
        if len(self.items) >= MAX_CART_LINES:
            raise RuleViolated(
                f"a cart holds at most {MAX_CART_LINES} different products", {"items": "too many"}
            )
        item = CartItem(kind=ref.kind, product_id=ref.id, quantity=quantity, added_at=at)
        self.items.append(item)
        self.updated_at = at
        return item

    def remove(self, item_id: str, *, at: datetime) -> None:
        kept = [item for item in self.items if item.id != item_id]
        if len(kept) == len(self.items):
            raise NotFound("cart item", item_id)
        self.items = kept
        self.updated_at = at

    def clear(self, *, at: datetime) -> None:
        self.items = []
        self.updated_at = at


@attrs.frozen
class Line:
    """A cart item priced from the catalog, or an order item as it was bought."""

    ref: ProductRef
    name: str
    unit_price: Money
    quantity: int

    @property
    def total(self) -> Money:
        return self.unit_price.times(self.quantity)


def total_of(lines: Iterable[Line], currency: str) -> Money:
    total = Money.zero(currency)
    for line in lines:
        total += line.total
    return total


@attrs.frozen
class CartLine:
    """An item of the cart with what the catalog says of it now (``None``: it is gone)."""

    item: CartItem
    product: Product | None

    @property
    def available(self) -> bool:
        return self.product is not None and self.product.active

    @property
    def line(self) -> Line | None:
        if self.product is None or not self.product.active:
            return None
        return Line(self.item.ref, self.product.name, self.product.price, self.item.quantity)


@attrs.frozen
class PricedCart:
    cart: Cart
    lines: list[CartLine]
    currency: str

    @classmethod
    def of(cls, cart: Cart, products: Mapping[ProductRef, Product], currency: str) -> PricedCart:
        return cls(cart, [CartLine(i, products.get(i.ref)) for i in cart.items], currency)

    @property
    def subtotal(self) -> Money:
        """What the available items cost now."""
        return total_of((line for cl in self.lines if (line := cl.line) is not None), self.currency)

    def lines_to_buy(self) -> list[Line]:
        """Every line priced, or a refusal naming what can no longer be bought."""
        if not self.lines:
            raise RuleViolated("the cart is empty", {"cart": "empty"})
        gone = [str(cl.item.ref) for cl in self.lines if not cl.available]
        if gone:
            raise RuleViolated(
                f"no longer for sale, remove from the cart: {', '.join(gone)}",
                {"items": "unavailable"},
            )
        lines = [line for cl in self.lines if (line := cl.line) is not None]
        for line in lines:
            if line.unit_price.currency != self.currency:
                raise RuleViolated(f"{line.ref} is not priced in {self.currency}")
        return lines


# ------------------------------------------------------------------------------- coupons

_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{2,31}$")
MAX_BASIS_POINTS = 10_000


class CouponKind(enum.StrEnum):
    PERCENTAGE = "percentage"
    FIXED = "fixed"


class CouponRefusal(enum.StrEnum):
    """Why a coupon cannot be used now; ``str(refusal)`` is the stable code clients see."""

    UNKNOWN = "unknown"
    INACTIVE = "inactive"
    NOT_STARTED = "not_started"
    EXPIRED = "expired"
    EXHAUSTED = "exhausted"
    CUSTOMER_LIMIT_REACHED = "customer_limit_reached"
    BELOW_MINIMUM = "below_minimum"
    NOT_APPLICABLE = "not_applicable"
    EMPTY_CART = "empty_cart"


REFUSAL_TEXT = {
    CouponRefusal.UNKNOWN: "there is no coupon with this code",
    CouponRefusal.INACTIVE: "the coupon is switched off",
    CouponRefusal.NOT_STARTED: "the coupon is not valid yet",
    CouponRefusal.EXPIRED: "the coupon has expired",
    CouponRefusal.EXHAUSTED: "the coupon has been used as many times as it may be",
    CouponRefusal.CUSTOMER_LIMIT_REACHED: "you have used this coupon as many times as you may",
    CouponRefusal.BELOW_MINIMUM: "the order is below the coupon's minimum amount",
    CouponRefusal.NOT_APPLICABLE: "the coupon does not apply to anything in the cart",
    CouponRefusal.EMPTY_CART: "the cart is empty",
}


class CouponRefused(RuleViolated):
    def __init__(self, reason: CouponRefusal) -> None:
        super().__init__(REFUSAL_TEXT[reason], {"coupon_code": reason.value})
        self.reason = reason


def normalize_code(code: str) -> str:
    return code.strip().upper()


def _code(code: str) -> str:
    cleaned = normalize_code(code)
    if not _CODE.match(cleaned):
        raise RuleViolated(
            "a coupon code is 3 to 32 letters, digits, '-' or '_'", {"code": "invalid"}
        )
    return cleaned


def _limit(field: str, value: int | None) -> int | None:
    if value is not None and not 1 <= value <= 1_000_000:
        raise RuleViolated(f"{field} must be between 1 and 1000000", {field: "out of range"})
    return value


@attrs.define
class Coupon:
    """A discount code. ``redemptions`` counts the live uses (given back by cancellations).

    A percentage is held in basis points (1 500 is 15 %); a fixed discount as money.
    ``applies_to`` empty means the whole order; otherwise only those products' lines count.
    """

    code: str
    kind: CouponKind
    percent_off_bp: int | None
    amount_off: Money | None
    minimum_order: Money | None
    valid_from: datetime | None
    valid_until: datetime | None
    max_redemptions: int | None
    max_per_customer: int | None
    active: bool
    applies_to: list[ProductRef]
    created_at: datetime
    updated_at: datetime
    redemptions: int = 0
    id: str = attrs.field(factory=new_id)

    @classmethod
    def create(
        cls,
        *,
        code: str,
        kind: CouponKind,
        percent_off_bp: int | None = None,
        amount_off: Money | None = None,
        minimum_order: Money | None = None,
        valid_from: datetime | None = None,
        valid_until: datetime | None = None,
        max_redemptions: int | None = None,
        max_per_customer: int | None = None,
        active: bool = True,
        applies_to: Iterable[ProductRef] = (),
        at: datetime,
    ) -> Coupon:
        coupon = cls(
            code=_code(code),
            kind=kind,
            percent_off_bp=percent_off_bp,
            amount_off=amount_off,
            minimum_order=minimum_order,
            valid_from=valid_from,
            valid_until=valid_until,
            max_redemptions=_limit("max_redemptions", max_redemptions),
            max_per_customer=_limit("max_per_customer", max_per_customer),
            active=active,
            applies_to=sorted(set(applies_to), key=str),
            created_at=at,
            updated_at=at,
        )
        coupon._check()
        return coupon

    def _check(self) -> None:
        if self.kind is CouponKind.PERCENTAGE:
            if self.amount_off is not None or self.percent_off_bp is None:
                raise RuleViolated(
                    "a percentage coupon has percent_off and no amount_off",
                    {"percent_off": "required"},
                )
            if not 1 <= self.percent_off_bp <= MAX_BASIS_POINTS:
                raise RuleViolated(
                    "percent_off must be between 1 and 100", {"percent_off": "out of range"}
                )
        else:
            if self.percent_off_bp is not None or self.amount_off is None:
                raise RuleViolated(
                    "a fixed coupon has amount_off and no percent_off", {"amount_off": "required"}
                )
            if self.amount_off.amount <= 0:
                raise RuleViolated("amount_off must be positive", {"amount_off": "out of range"})
        if self.minimum_order is not None and self.minimum_order.is_negative:
            raise RuleViolated(
                "minimum_order must not be negative", {"minimum_order": "out of range"}
            )
        if self.valid_from and self.valid_until and self.valid_until <= self.valid_from:
            raise RuleViolated(
                "valid_until must be after valid_from", {"valid_until": "before valid_from"}
            )

    def revise(
        self,
        *,
        at: datetime,
        active: bool | None = None,
        valid_until: datetime | None = None,
        max_redemptions: int | None = None,
        max_per_customer: int | None = None,
        minimum_order: Money | None = None,
    ) -> None:
        """Change the terms that can change without rewriting past orders."""
        if active is not None:
            self.active = active
        if valid_until is not None:
            self.valid_until = valid_until
        if max_redemptions is not None:
            if max_redemptions < self.redemptions:
                raise RuleViolated(
                    f"the coupon has been used {self.redemptions} times already",
                    {"max_redemptions": "below the uses so far"},
                )
            self.max_redemptions = _limit("max_redemptions", max_redemptions)
        if max_per_customer is not None:
            self.max_per_customer = _limit("max_per_customer", max_per_customer)
        if minimum_order is not None:
            self.minimum_order = minimum_order
        self._check()
        self.updated_at = at

    def _eligible(self, lines: Iterable[Line], currency: str) -> Money:
        if not self.applies_to:
            return total_of(lines, currency)
        wanted = set(self.applies_to)
        return total_of((line for line in lines if line.ref in wanted), currency)

    def discount_for(self, lines: list[Line], currency: str) -> Money:
        """Never more than the lines it applies to: a total cannot go below zero."""
        eligible = self._eligible(lines, currency)
        if self.percent_off_bp is not None:
            return eligible.percent(self.percent_off_bp)
        assert self.amount_off is not None
        if self.amount_off.currency != currency:
            return Money.zero(currency)
        return self.amount_off.min(eligible)

    def refusal(
        self, lines: list[Line], currency: str, *, used_by_customer: int, at: datetime
    ) -> CouponRefusal | None:
        """Why it cannot be used on ``lines`` now, or ``None`` when it can."""
        if not lines:
            return CouponRefusal.EMPTY_CART
        if not self.active:
            return CouponRefusal.INACTIVE
        if self.valid_from is not None and at < self.valid_from:
            return CouponRefusal.NOT_STARTED
        if self.valid_until is not None and at >= self.valid_until:
            return CouponRefusal.EXPIRED
        if self.max_redemptions is not None and self.redemptions >= self.max_redemptions:
            return CouponRefusal.EXHAUSTED
        if self.max_per_customer is not None and used_by_customer >= self.max_per_customer:
            return CouponRefusal.CUSTOMER_LIMIT_REACHED
        if self.minimum_order is not None and total_of(lines, currency) < self.minimum_order:
            return CouponRefusal.BELOW_MINIMUM
        if self.discount_for(lines, currency).amount == 0:
            return CouponRefusal.NOT_APPLICABLE
        return None

    def redeem(
        self, lines: list[Line], currency: str, *, used_by_customer: int, at: datetime
    ) -> Money:
        """Take one use and return the discount; refused past either limit."""
        reason = self.refusal(lines, currency, used_by_customer=used_by_customer, at=at)
        if reason is not None:
            raise CouponRefused(reason)
        self.redemptions += 1
        self.updated_at = at
        return self.discount_for(lines, currency)

    def give_back(self, *, at: datetime) -> None:
        self.redemptions = max(0, self.redemptions - 1)
        self.updated_at = at


@attrs.define
class Redemption:
    """One use of a coupon by an order; released when the order is cancelled or expires."""

    coupon_id: str
    customer_id: str
    order_id: str
    redeemed_at: datetime
    released_at: datetime | None = None
    id: str = attrs.field(factory=new_id)


# -------------------------------------------------------------------------------- orders


class OrderStatus(enum.StrEnum):
    PENDING = "pending"
    PAID = "paid"
    FULFILLED = "fulfilled"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    REFUNDED = "refunded"


TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.PENDING: frozenset({OrderStatus.PAID, OrderStatus.CANCELLED, OrderStatus.EXPIRED}),
    OrderStatus.PAID: frozenset({OrderStatus.FULFILLED, OrderStatus.REFUNDED}),
}

# Who moved an order when no person did.
EXPIRY_ACTOR = "system:expiry"


@attrs.frozen
class OrderTransition:
    """One step of an order's life; the first one has no ``from_status``."""

    order_id: str
    from_status: OrderStatus | None
    to_status: OrderStatus
    at: datetime
    actor: str
    note: str | None = None
    id: str = attrs.field(factory=new_id)


@attrs.frozen
class OrderItem:
    kind: ProductKind
    product_id: str
    name: str
    unit_price: Money
    quantity: int

    @property
    def line(self) -> Line:
        return Line(
            ProductRef(self.kind, self.product_id), self.name, self.unit_price, self.quantity
        )

    @property
    def total(self) -> Money:
        return self.line.total


@attrs.define
class Order:
    number: int
    customer_id: str
    currency: str
    items: list[OrderItem]
    discount: Money
    coupon_id: str | None
    coupon_code: str | None
    status: OrderStatus
    placed_at: datetime
    updated_at: datetime
    paid_at: datetime | None = None
    payment_reference: str | None = None
    review_reason: str | None = None
    history: list[OrderTransition] = attrs.field(factory=list)
    id: str = attrs.field(factory=new_id)

    @classmethod
    def place(
        cls,
        *,
        number: int,
        customer_id: str,
        lines: list[Line],
        currency: str,
        discount: Money,
        coupon: Coupon | None,
        at: datetime,
    ) -> Order:
        if not lines:
            raise RuleViolated("an order needs at least one item", {"cart": "empty"})
        order = cls(
            number=number,
            customer_id=customer_id,
            currency=currency,
            items=[
                OrderItem(line.ref.kind, line.ref.id, line.name, line.unit_price, line.quantity)
                for line in lines
            ],
            discount=discount,
            coupon_id=coupon.id if coupon else None,
            coupon_code=coupon.code if coupon else None,
            status=OrderStatus.PENDING,
            placed_at=at,
            updated_at=at,
        )
        if discount.is_negative or order.subtotal < discount:
            raise RuleViolated("a discount is between zero and the subtotal")
        order.history.append(
            OrderTransition(order.id, None, OrderStatus.PENDING, at, customer_id, "checkout")
        )
        return order

    @property
    def reference(self) -> str:
        """The number as people and payment providers see it."""
        return f"TA-{self.number:06d}"

    @property
    def subtotal(self) -> Money:
        return total_of((item.line for item in self.items), self.currency)

    @property
    def total(self) -> Money:
        return self.subtotal - self.discount

    def _move(
        self, to: OrderStatus, *, actor: str, at: datetime, note: str | None = None
    ) -> OrderTransition:
        self.check_move_to(to)
        transition = OrderTransition(self.id, self.status, to, at, actor, note)
        self.status = to
        self.updated_at = at
        self.history.append(transition)
        return transition

    def cancel(self, *, actor: str, at: datetime) -> OrderTransition:
        return self._move(OrderStatus.CANCELLED, actor=actor, at=at)

    def expire(self, *, at: datetime) -> OrderTransition:
        return self._move(OrderStatus.EXPIRED, actor=EXPIRY_ACTOR, at=at)

    def pay(self, *, transaction: str, actor: str, at: datetime) -> OrderTransition:
        transition = self._move(OrderStatus.PAID, actor=actor, at=at, note=transaction)
        self.paid_at = at
        self.payment_reference = transaction
        return transition

    def fulfil(self, *, actor: str, at: datetime) -> OrderTransition:
        return self._move(OrderStatus.FULFILLED, actor=actor, at=at)

    def refund(self, *, actor: str, at: datetime, note: str | None = None) -> OrderTransition:
        return self._move(OrderStatus.REFUNDED, actor=actor, at=at, note=note)

    def can_move_to(self, to: OrderStatus) -> bool:
        """Whether the transition table lets the order become ``to`` from where it is."""
        return to in TRANSITIONS.get(self.status, frozenset())

    def check_move_to(self, to: OrderStatus) -> None:
        """Raise the ``Conflict`` the move to ``to`` would raise, without moving."""
        if not self.can_move_to(to):
            raise Conflict(
                f"order {self.reference} is {self.status.value}; it cannot become {to.value}"
            )

    def flag_for_review(self, reason: str, *, at: datetime) -> None:
        """Something about its payment needs a person; the first reason is kept."""
        if self.review_reason is None:
            self.review_reason = reason[:500]
            self.updated_at = at

    @property
    def gives_back_coupon(self) -> bool:
        return self.coupon_id is not None and self.status in (
            OrderStatus.CANCELLED,
            OrderStatus.EXPIRED,
        )


# ------------------------------------------------------------------------------ payments


@attrs.frozen
class PaymentRequest:
    order_id: str
    order_reference: str
    amount: Money
    customer_id: str
    customer_email: str | None


@attrs.frozen
class PaymentForm:
    """What the payer's browser needs to show the provider's embedded form."""

    provider: str
    form_token: str
    public_key: str


@attrs.frozen
class RefundRequest:
    """Give back ``amount`` of the payment the provider knows as ``transaction_id``."""

    order_reference: str
    transaction_id: str
    amount: Money
    comment: str | None = None


@attrs.frozen
class RefundReceipt:
    """The provider's word that it gave the money back: its id for the refund, and its status."""

    provider: str
    refund_id: str
    status: str


PAID = "PAID"


@attrs.frozen
class PaymentNotification:
    """A provider's authenticated statement about one transaction of one order."""

    provider: str
    order_reference: str
    transaction_id: str
    status: str
    amount: Money

    @property
    def paid(self) -> bool:
        return self.status == PAID


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
            order_reference=notification.order_reference[:64],
            transaction_id=notification.transaction_id[:64],
            status=notification.status[:32],
            amount=notification.amount,
        )


def refund_entry(order: Order, receipt: RefundReceipt, *, at: datetime) -> PaymentEntry:
    """The journal's record of ``order``'s money given back, under the provider's refund id."""
    return PaymentEntry(
        provider=receipt.provider,
        outcome=NotificationOutcome.REFUNDED,
        received_at=at,
        detail=f"refund of {order.payment_reference}"[:500],
        order_id=order.id,
        order_reference=order.reference,
        transaction_id=receipt.refund_id[:64],
        status=receipt.status[:32],
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


# ---------------------------------------------------------------------------------- sales


@attrs.frozen
class Sale:
    """An order that was paid, as the sales summary needs it."""

    paid_at: datetime
    status: OrderStatus
    total: Money
    discount: Money


@attrs.frozen
class SalesDay:
    day: date
    orders: int
    revenue: Money
    discounts: Money
    refunded_orders: int
    refunded: Money


def summarize(sales: Iterable[Sale], currency: str) -> list[SalesDay]:
    """Per UTC day of payment: orders paid and kept, their revenue and discounts, refunds."""
    zero = Money.zero(currency)
    days: dict[date, list[Sale]] = {}
    for sale in sales:
        days.setdefault(sale.paid_at.date(), []).append(sale)
    summary = []
    for day in sorted(days):
        kept = [s for s in days[day] if s.status is not OrderStatus.REFUNDED]
        refunded = [s for s in days[day] if s.status is OrderStatus.REFUNDED]
        summary.append(
            SalesDay(
                day=day,
                orders=len(kept),
                revenue=sum((s.total for s in kept), zero),
                discounts=sum((s.discount for s in kept), zero),
                refunded_orders=len(refunded),
                refunded=sum((s.total for s in refunded), zero),
            )
        )
    return summary


@attrs.frozen
class SalesSummary:
    first: date
    last: date
    currency: str
    days: list[SalesDay]

    @property
    def orders(self) -> int:
        return sum(day.orders for day in self.days)

    @property
    def revenue(self) -> Money:
        return sum((day.revenue for day in self.days), Money.zero(self.currency))

    @property
    def discounts(self) -> Money:
        return sum((day.discounts for day in self.days), Money.zero(self.currency))
