"""Properties of the commerce model that must hold for any prices, quantities, terms and moves."""

from __future__ import annotations

import copy
import itertools
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from talia_core.catalog.model import MAX_PRICE
from talia_core.commerce.cart import MAX_QUANTITY, Cart
from talia_core.commerce.coupon import Coupon, CouponKind, CouponRefusal
from talia_core.commerce.order import TRANSITIONS, Order, OrderStatus
from talia_core.commerce.products import Line, ProductKind, ProductRef
from talia_core.shared.clock import FakeClock
from talia_core.shared.errors import Conflict, RuleViolated
from talia_core.shared.money import Money
from tests.unit.commerce.builders import ANA, MODEL_MOVES, PEN, pen, placed_order

AT = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

PRODUCTS = [
    ProductRef(ProductKind.PLAN, "plan-1"),
    ProductRef(ProductKind.PLAN, "plan-2"),
    ProductRef(ProductKind.TEMPLATE, "template-1"),
    ProductRef(ProductKind.TEMPLATE, "template-2"),
]


def half_up(numerator: int, denominator: int) -> int:
    exact = Decimal(numerator) / Decimal(denominator)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@st.composite
def cart_lines(draw: st.DrawFn) -> list[Line]:
    """Lines of different products at catalog prices and cart quantities."""
    chosen = draw(st.lists(st.sampled_from(PRODUCTS), min_size=1, unique=True))
    return [
        Line(
            ref,
            ref.id,
            pen(draw(st.integers(0, MAX_PRICE))),
            draw(st.integers(1, MAX_QUANTITY)),
        )
        for ref in chosen
    ]


@st.composite
def any_coupons(draw: st.DrawFn) -> Coupon:
    applies_to = draw(st.sets(st.sampled_from(PRODUCTS)))
    if draw(st.booleans()):
        return Coupon.create(
            code="PERCENT",
            kind=CouponKind.PERCENTAGE,
            percent_off_bp=draw(st.integers(1, 10_000)),
            applies_to=applies_to,
            at=AT,
        )
    return Coupon.create(
        code="FIXED",
        kind=CouponKind.FIXED,
        amount_off=pen(draw(st.integers(1, 2 * MAX_PRICE * MAX_QUANTITY))),
        applies_to=applies_to,
        at=AT,
    )


def eligible(coupon: Coupon, lines: list[Line]) -> int:
    return sum(
        line.total.amount
        for line in lines
        if not coupon.applies_to or line.ref in coupon.applies_to
    )


@given(lines=cart_lines(), coupon=any_coupons())
def test_a_discount_lies_between_nothing_and_what_it_applies_to(
    lines: list[Line], coupon: Coupon
) -> None:
    subtotal = sum(line.total.amount for line in lines)
    discount = coupon.discount_for(lines, PEN)
    assert discount.currency == PEN
    assert 0 <= discount.amount <= eligible(coupon, lines) <= subtotal


@given(lines=cart_lines(), coupon=any_coupons())
def test_an_order_total_is_its_subtotal_less_its_discount_and_never_negative(
    lines: list[Line], coupon: Coupon
) -> None:
    discount = coupon.discount_for(lines, PEN)
    order = Order.place(
        number=1,
        customer_id=ANA.id,
        lines=lines,
        currency=PEN,
        discount=discount,
        coupon=coupon,
        at=AT,
    )
    assert order.subtotal == pen(sum(line.total.amount for line in lines))
    assert order.total == order.subtotal - discount
    assert order.total.amount >= 0


@given(lines=cart_lines(), coupon=any_coupons())
def test_a_percentage_discount_is_the_share_of_its_lines_rounded_half_up(
    lines: list[Line], coupon: Coupon
) -> None:
    discount = coupon.discount_for(lines, PEN)
    if coupon.percent_off_bp is not None:
        expected = half_up(eligible(coupon, lines) * coupon.percent_off_bp, 10_000)
    else:
        assert coupon.amount_off is not None
        expected = min(coupon.amount_off.amount, eligible(coupon, lines))
    assert discount == pen(expected)


@given(amount=st.integers(0, 10**13), basis_points=st.integers(0, 10_000))
def test_a_share_of_money_is_rounded_half_up(amount: int, basis_points: int) -> None:
    assert Money(amount, PEN).percent(basis_points) == pen(half_up(amount * basis_points, 10_000))


@given(lines=cart_lines(), coupon=any_coupons())
def test_a_usable_coupon_always_gives_something(lines: list[Line], coupon: Coupon) -> None:
    if coupon.refusal(lines, PEN, used_by_customer=0, at=AT) is None:
        assert coupon.discount_for(lines, PEN).amount > 0


@given(
    limit=st.integers(1, 20),
    moves=st.lists(st.sampled_from(["take", "give back"]), max_size=80),
)
def test_a_coupon_never_counts_a_use_past_its_total_limit(limit: int, moves: list[str]) -> None:
    coupon = Coupon.create(
        code="LIMITED",
        kind=CouponKind.PERCENTAGE,
        percent_off_bp=1_000,
        max_redemptions=limit,
        at=AT,
    )
    live = 0
    for move in moves:
        if move == "give back":
            coupon.give_back(at=AT)
            live = max(0, live - 1)
        elif live < limit:
            assert coupon.take_use(used_by_customer=0, at=AT) is None
            live += 1
        else:
            assert coupon.take_use(used_by_customer=0, at=AT) is CouponRefusal.EXHAUSTED
        assert 0 <= coupon.redemptions == live <= limit


@given(limit=st.integers(1, 10), attempts=st.integers(0, 40))
def test_taking_any_number_of_uses_stops_at_the_limit(limit: int, attempts: int) -> None:
    coupon = Coupon.create(
        code="LIMITED", kind=CouponKind.FIXED, amount_off=pen(100), max_redemptions=limit, at=AT
    )
    refusals = [coupon.take_use(used_by_customer=0, at=AT) for _ in range(attempts)]
    assert coupon.redemptions == min(attempts, limit)
    assert refusals.count(None) == min(attempts, limit)


@given(limit=st.integers(1, 10), used=st.integers(0, 20))
def test_a_customer_is_refused_once_they_reach_their_own_limit(limit: int, used: int) -> None:
    lines = [Line(PRODUCTS[0], "Celebration", pen(5_000), 1)]
    coupon = Coupon.create(
        code="PERSONAL",
        kind=CouponKind.PERCENTAGE,
        percent_off_bp=1_000,
        max_per_customer=limit,
        at=AT,
    )
    refusal = coupon.refusal(lines, PEN, used_by_customer=used, at=AT)
    assert refusal is (CouponRefusal.CUSTOMER_LIMIT_REACHED if used >= limit else None)


@given(adds=st.lists(st.tuples(st.sampled_from(PRODUCTS), st.integers(-5, 120)), max_size=30))
def test_a_cart_holds_the_sum_of_what_was_added_and_never_past_a_hundred(
    adds: list[tuple[ProductRef, int]],
) -> None:
    cart = Cart.open(ANA.id, at=None)
    expected: dict[ProductRef, int] = {}
    for ref, quantity in adds:
        total = expected.get(ref, 0) + quantity
        if quantity >= 1 and total <= MAX_QUANTITY:
            cart.add(ref, quantity, at=AT)
            expected[ref] = total
        else:
            before = copy.deepcopy(cart)
            with pytest.raises(RuleViolated):
                cart.add(ref, quantity, at=AT)
            assert cart == before
    assert {item.ref: item.quantity for item in cart.items} == expected


class OrderMoves(RuleBasedStateMachine):
    """Any move at any time: only those of the table succeed; the others change nothing."""

    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock()
        self.order = placed_order(self.clock.now())

    @rule(to=st.sampled_from(list(MODEL_MOVES)))
    def move(self, to: OrderStatus) -> None:
        self.clock.advance(timedelta(seconds=1))
        before = copy.deepcopy(self.order)
        if to in TRANSITIONS.get(before.status, frozenset()):
            transition = MODEL_MOVES[to](self.order, self.clock.now())
            assert (transition.from_status, transition.to_status) == (before.status, to)
            assert self.order.status is to
            assert self.order.history == [*before.history, transition]
        else:
            with pytest.raises(Conflict):
                MODEL_MOVES[to](self.order, self.clock.now())
            assert self.order == before

    @invariant()
    def its_history_follows_the_table(self) -> None:
        history = self.order.history
        assert (history[0].from_status, history[0].to_status) == (None, OrderStatus.PENDING)
        for previous, step in itertools.pairwise(history):
            assert step.from_status is previous.to_status
            assert step.to_status in TRANSITIONS[previous.to_status]
            assert step.at > previous.at
        assert history[-1].to_status is self.order.status

    @invariant()
    def it_is_paid_exactly_when_its_history_says_so(self) -> None:
        paid = [t for t in self.order.history if t.to_status is OrderStatus.PAID]
        assert (self.order.paid_at is None) == (not paid)
        if paid:
            assert self.order.paid_at == paid[0].at

    @invariant()
    def a_refund_starts_from_a_payment_and_gives_the_money_back_at_most_once(self) -> None:
        steps = [(t.from_status, t.to_status) for t in self.order.history]
        assert all(
            start is OrderStatus.PAID for start, end in steps if end is OrderStatus.REFUNDING
        )
        assert all(
            start is OrderStatus.REFUNDING for start, end in steps if end is OrderStatus.REFUNDED
        )
        assert [end for _, end in steps].count(OrderStatus.REFUNDED) <= 1
        if self.order.status in (OrderStatus.REFUNDING, OrderStatus.REFUNDED):
            assert self.order.payment_reference == "tx-1"


OrderMoveTests = OrderMoves.TestCase
