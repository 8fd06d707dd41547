"""Orders: what a customer bought at checkout, and the life the order leads after."""

from __future__ import annotations

import enum
from datetime import datetime

import attrs

from talia_core.commerce.coupon import Coupon
from talia_core.commerce.products import Line, ProductKind, ProductRef, total_of
from talia_core.shared.errors import Conflict, RuleViolated
from talia_core.shared.ids import new_id
from talia_core.shared.money import Money


class OrderStatus(enum.StrEnum):
    PENDING = "pending"
    PAID = "paid"
    FULFILLED = "fulfilled"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    REFUNDING = "refunding"
    REFUNDED = "refunded"

    def may_become(self, to: OrderStatus) -> bool:
        """Whether the transition table lets an order in this status become ``to``."""
        return to in TRANSITIONS.get(self, frozenset())


TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.PENDING: frozenset({OrderStatus.PAID, OrderStatus.CANCELLED, OrderStatus.EXPIRED}),
    OrderStatus.PAID: frozenset({OrderStatus.FULFILLED, OrderStatus.REFUNDING}),
    # The provider gives the money back (refunded), or refuses to for good (paid again).
    OrderStatus.REFUNDING: frozenset({OrderStatus.REFUNDED, OrderStatus.PAID}),
}

# Who moved an order when no person did.
EXPIRY_ACTOR = "system:expiry"

MAX_NOTE = 500
"""A step of an order's history carries a note of at most 500 characters."""
MAX_REVIEW_REASON = 500
"""Why an order's payment needs a person is said in at most 500 characters."""


def order_reference(number: int) -> str:
    """An order's number as people and payment providers see it: ``TA-000123``."""
    return f"TA-{number:06d}"


def _note(note: str | None) -> str | None:
    if note is not None and len(note) > MAX_NOTE:
        raise RuleViolated(
            f"a history note must be at most {MAX_NOTE} characters", {"note": "too long"}
        )
    return note


@attrs.frozen
class OrderTransition:
    """One step of an order's life; the first one has no ``from_status``."""

    order_id: str
    from_status: OrderStatus | None
    to_status: OrderStatus
    at: datetime
    actor: str
    note: str | None = attrs.field(default=None, converter=_note)
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
        order_id: str | None = None,
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
            id=order_id or new_id(),
        )
        if discount.is_negative or order.subtotal < discount:
            raise RuleViolated("a discount is between zero and the subtotal")
        order.history.append(
            OrderTransition(order.id, None, OrderStatus.PENDING, at, customer_id, "checkout")
        )
        return order

    @property
    def reference(self) -> str:
        return order_reference(self.number)

    @property
    def subtotal(self) -> Money:
        return total_of((item.line for item in self.items), self.currency)

    @property
    def total(self) -> Money:
        return self.subtotal - self.discount

    def _move(
        self, to: OrderStatus, *, actor: str, at: datetime, note: str | None = None
    ) -> OrderTransition:
        if not self.status.may_become(to):
            raise Conflict(
                f"order {self.reference} is {self.status.value}; it cannot become {to.value}"
            )
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
        """A pending order's payment; an order is paid once (``finish_refund`` makes it paid
        again when the provider refuses a refund)."""
        if self.status is not OrderStatus.PENDING:
            raise Conflict(f"order {self.reference} is {self.status.value}; it cannot be paid")
        transition = self._move(OrderStatus.PAID, actor=actor, at=at, note=transaction)
        self.paid_at = at
        self.payment_reference = transaction
        return transition

    def fulfil(self, *, actor: str, at: datetime) -> OrderTransition:
        return self._move(OrderStatus.FULFILLED, actor=actor, at=at)

    def start_refund(self, *, actor: str, at: datetime, note: str | None = None) -> OrderTransition:
        """The provider is asked for the money back: no other move until it answers."""
        return self._move(OrderStatus.REFUNDING, actor=actor, at=at, note=note)

    def finish_refund(
        self, *, actor: str, at: datetime, note: str | None = None, refused: str | None = None
    ) -> OrderTransition:
        """The provider's answer to the running refund: the money given back (refunded), or,
        when it ``refused`` for good, the order paid as it was, the step saying why."""
        if self.status is not OrderStatus.REFUNDING:
            raise Conflict(
                f"order {self.reference} is {self.status.value}; no refund of it is running"
            )
        if refused is None:
            return self._move(OrderStatus.REFUNDED, actor=actor, at=at, note=note)
        # The provider's reason is kept for an admin's eye: shortened to a note on purpose.
        return self._move(OrderStatus.PAID, actor=actor, at=at, note=refused[:MAX_NOTE])

    def flag_for_review(self, reason: str, *, at: datetime) -> None:
        """Something about its payment needs a person; the first reason is kept."""
        if len(reason) > MAX_REVIEW_REASON:
            raise RuleViolated(
                f"a review reason must be at most {MAX_REVIEW_REASON} characters",
                {"review_reason": "too long"},
            )
        if self.review_reason is None:
            self.review_reason = reason
            self.updated_at = at

    @property
    def gives_back_coupon(self) -> bool:
        return self.coupon_id is not None and self.status in (
            OrderStatus.CANCELLED,
            OrderStatus.EXPIRED,
        )
