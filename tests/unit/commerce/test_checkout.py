"""Checkout: a cart becomes a pending order at today's prices, with at most one coupon."""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta
from functools import partial

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.memory.database import InMemoryDatabase
from adapters.memory.unit_of_work import InMemoryUnitOfWork
from talia_core.catalog.model import Plan
from talia_core.catalog.services import CatalogService
from talia_core.commerce.actor import Actor
from talia_core.commerce.cart_service import CartService
from talia_core.commerce.coupon import Coupon, CouponRefusal, CouponRefused
from talia_core.commerce.coupon_service import CouponService
from talia_core.commerce.order import Order, OrderItem, OrderStatus
from talia_core.commerce.order_service import OrderService
from talia_core.commerce.payment_service import PaymentService
from talia_core.commerce.products import ProductKind
from talia_core.shared.clock import FakeClock
from talia_core.shared.errors import RuleViolated
from talia_core.shared.pagination import PageRequest
from tests.unit.commerce.builders import (
    ADMIN,
    ANA,
    LUIS,
    PEN,
    PENDING_LIFETIME,
    FakePaymentGateway,
    Shop,
    pen,
    ref,
)


async def test_a_customer_without_a_cart_cannot_check_out(shop: Shop) -> None:
    with pytest.raises(RuleViolated) as refused:
        await shop.orders.checkout(ANA)
    assert refused.value.fields == {"cart": "empty"}
    assert await shop.stored_orders() == []


async def test_an_emptied_cart_cannot_be_checked_out(shop: Shop) -> None:
    await shop.fill(ANA, await shop.plan())
    item = (await shop.carts.view(ANA.id)).cart.items[0]
    await shop.carts.remove_item(ANA.id, item.id)
    with pytest.raises(RuleViolated):
        await shop.orders.checkout(ANA, coupon_code="ANY")
    assert await shop.stored_orders() == []


@pytest.mark.parametrize("change", ["deleted", "switched off"])
async def test_an_unavailable_product_stops_the_checkout_and_nothing_changes(
    shop: Shop, change: str
) -> None:
    plan, template = await shop.plan(), await shop.template()
    await shop.fill(ANA, plan, template)
    coupon = await shop.coupon(max_redemptions=5)
    if change == "deleted":
        await shop.catalog.delete_template(template.id)
    else:
        await shop.catalog.update_template(template.id, active=False)
    with pytest.raises(RuleViolated) as refused:
        await shop.orders.checkout(ANA, coupon_code=coupon.code)
    assert refused.value.fields == {"items": "unavailable"}
    assert str(ref(template)) in refused.value.detail
    assert await shop.cart_refs(ANA) == [(ref(plan), 1), (ref(template), 1)]
    assert await shop.stored_orders() == []
    assert (await shop.stored_coupon(coupon.id)).redemptions == 0
    await shop.carts.remove_item(ANA.id, (await shop.carts.view(ANA.id)).cart.items[1].id)
    assert (await shop.orders.checkout(ANA, coupon_code=coupon.code)).number == 1


async def test_orders_are_numbered_one_after_another(shop: Shop) -> None:
    numbers = [(await shop.pending(Actor(f"customer-{n}"))).number for n in range(3)]
    assert numbers == [1, 2, 3]
    assert [o.reference for o in await shop.stored_orders()] == [
        "TA-000001",
        "TA-000002",
        "TA-000003",
    ]


async def test_a_refused_checkout_does_not_spend_a_number(shop: Shop) -> None:
    await shop.pending(ANA)
    await shop.fill(LUIS, await shop.plan())
    with pytest.raises(CouponRefused):
        await shop.orders.checkout(LUIS, coupon_code="NOSUCHCODE")
    assert (await shop.orders.checkout(LUIS)).number == 2


async def test_an_order_keeps_what_was_bought_whatever_the_catalog_does_later(
    shop: Shop,
) -> None:
    plan = await shop.plan(5_000, name="Celebration")
    template = await shop.template(3_000, name="Floral")
    await shop.fill(ANA, plan, quantity=2)
    await shop.fill(ANA, template)
    order = await shop.orders.checkout(ANA)
    await shop.catalog.update_plan(plan.id, name="Renamed", price=pen(9_999))
    await shop.catalog.delete_template(template.id)
    stored = await shop.stored_order(order.id)
    assert stored.items == [
        OrderItem(ProductKind.PLAN, plan.id, "Celebration", pen(5_000), 2),
        OrderItem(ProductKind.TEMPLATE, template.id, "Floral", pen(3_000), 1),
    ]
    assert stored.total == pen(13_000)


async def test_the_order_is_priced_at_the_catalog_price_of_checkout_time(shop: Shop) -> None:
    plan = await shop.plan(5_000)
    await shop.fill(ANA, plan)
    await shop.catalog.update_plan(plan.id, price=pen(4_500))
    order = await shop.orders.checkout(ANA)
    assert order.items[0].unit_price == pen(4_500)


async def test_an_order_adds_up_its_lines_and_its_discount(shop: Shop) -> None:
    plan, template = await shop.plan(5_000), await shop.template(3_000)
    await shop.fill(ANA, plan, quantity=2)
    await shop.fill(ANA, template)
    coupon = await shop.coupon("HOLA10", percent_off=10)
    order = await shop.orders.checkout(ANA, coupon_code=" hola10 ")
    stored = await shop.stored_order(order.id)
    assert (stored.subtotal, stored.discount, stored.total) == (
        pen(13_000),
        pen(1_300),
        pen(11_700),
    )
    assert (stored.coupon_id, stored.coupon_code) == (coupon.id, "HOLA10")
    assert (await shop.stored_coupon(coupon.id)).redemptions == 1


async def test_an_order_without_a_coupon_has_no_discount(shop: Shop) -> None:
    await shop.fill(ANA, await shop.plan(5_000))
    order = await shop.orders.checkout(ANA, coupon_code="   ")
    assert (order.discount, order.total, order.coupon_id, order.coupon_code) == (
        pen(0),
        pen(5_000),
        None,
        None,
    )


async def test_a_new_order_is_pending_with_one_step_of_history(
    shop: Shop, clock: FakeClock
) -> None:
    clock.advance(timedelta(days=3))
    order = await shop.pending(ANA)
    stored = await shop.stored_order(order.id)
    assert stored.status is OrderStatus.PENDING
    assert (stored.customer_id, stored.currency, stored.placed_at) == (ANA.id, "PEN", clock.now())
    assert [(t.from_status, t.to_status, t.actor, t.at, t.note) for t in stored.history] == [
        (None, OrderStatus.PENDING, ANA.id, clock.now(), "checkout")
    ]


async def test_checking_out_empties_the_cart(shop: Shop) -> None:
    await shop.pending(ANA)
    assert await shop.cart_refs(ANA) == []
    with pytest.raises(RuleViolated):
        await shop.orders.checkout(ANA)
    assert len(await shop.stored_orders()) == 1


async def test_checking_out_leaves_other_customers_carts_alone(shop: Shop) -> None:
    plan = await shop.plan()
    await shop.fill(LUIS, plan)
    await shop.pending(ANA, plan)
    assert await shop.cart_refs(LUIS) == [(ref(plan), 1)]


CHECKOUT_REFUSALS = [reason for reason in CouponRefusal if reason is not CouponRefusal.EMPTY_CART]


@pytest.mark.parametrize("reason", CHECKOUT_REFUSALS)
async def test_a_refused_coupon_stops_the_checkout_and_nothing_changes(
    shop: Shop, reason: CouponRefusal
) -> None:
    code = await shop.refusing(reason, ANA)
    cart_before = await shop.cart_refs(ANA)
    orders_before = await shop.stored_orders()
    coupons_before = await shop.coupons.list(ADMIN, PageRequest(), active=None)
    with pytest.raises(CouponRefused) as refused:
        await shop.orders.checkout(ANA, coupon_code=code)
    assert refused.value.reason is reason
    assert refused.value.fields == {"coupon_code": reason.value}
    assert await shop.cart_refs(ANA) == cart_before != []
    assert await shop.stored_orders() == orders_before
    assert await shop.coupons.list(ADMIN, PageRequest(), active=None) == coupons_before
    next_number = len(orders_before) + 1
    assert (await shop.orders.checkout(ANA)).number == next_number


async def test_concurrent_checkouts_never_redeem_a_coupon_past_its_total_limit(
    shop: Shop,
) -> None:
    plan = await shop.plan(5_000)
    coupon = await shop.coupon("LIMITED", percent_off=20, max_redemptions=10)
    customers = [Actor(f"customer-{n:02d}") for n in range(30)]
    for customer in customers:
        await shop.fill(customer, plan)
    outcomes = await asyncio.gather(
        *(shop.orders.checkout(c, coupon_code="LIMITED") for c in customers),
        return_exceptions=True,
    )
    refusals = [o for o in outcomes if isinstance(o, CouponRefused)]
    assert len(refusals) == 20
    assert {r.reason for r in refusals} == {CouponRefusal.EXHAUSTED}
    orders = await shop.stored_orders()
    assert len(orders) == 10
    assert {(o.coupon_id, o.discount) for o in orders} == {(coupon.id, pen(1_000))}
    assert [o.number for o in orders] == list(range(1, 11))
    assert (await shop.stored_coupon(coupon.id)).redemptions == 10


async def test_a_customer_uses_a_coupon_no_more_than_their_limit_across_orders(
    shop: Shop,
) -> None:
    plan = await shop.plan(5_000)
    coupon = await shop.coupon("ONCE", max_per_customer=1)
    first = await shop.pending(ANA, plan, coupon_code="ONCE")
    assert first.discount == pen(500)
    await shop.fill(ANA, plan)
    with pytest.raises(CouponRefused) as refused:
        await shop.orders.checkout(ANA, coupon_code="ONCE")
    assert refused.value.reason is CouponRefusal.CUSTOMER_LIMIT_REACHED
    assert (await shop.stored_coupon(coupon.id)).redemptions == 1
    assert (await shop.pending(LUIS, plan, coupon_code="ONCE")).discount == pen(500)
    assert (await shop.stored_coupon(coupon.id)).redemptions == 2


async def test_a_customer_limit_of_two_allows_two_orders(shop: Shop) -> None:
    plan = await shop.plan(5_000)
    await shop.coupon("TWICE", max_per_customer=2)
    for _ in range(2):
        assert (await shop.pending(ANA, plan, coupon_code="TWICE")).discount == pen(500)
    await shop.fill(ANA, plan)
    with pytest.raises(CouponRefused):
        await shop.orders.checkout(ANA, coupon_code="TWICE")


def _shop() -> Shop:
    database, clock, gateway = InMemoryDatabase(), FakeClock(), FakePaymentGateway()
    units = partial(InMemoryUnitOfWork, database)
    return Shop(
        database,
        clock,
        CatalogService(units, clock, currency=PEN),
        CartService(units, clock, currency=PEN),
        CouponService(units, clock, currency=PEN),
        OrderService(
            units, clock, currency=PEN, pending_lifetime=PENDING_LIFETIME, gateway=gateway
        ),
        PaymentService(units, clock, gateway),
        gateway,
    )


@settings(max_examples=60, deadline=None)
@given(
    limit=st.integers(1, 8),
    per_customer=st.none() | st.integers(1, 3),
    attempts=st.lists(st.integers(1, 4), min_size=1, max_size=8),
    cancels=st.lists(st.booleans(), max_size=32),
    turns=st.randoms(use_true_random=False),
)
def test_any_burst_of_checkouts_takes_exactly_the_uses_its_limits_allow(
    limit: int,
    per_customer: int | None,
    attempts: list[int],
    cancels: list[bool],
    turns: random.Random,
) -> None:
    """Customers check out at once, each several times in a row, in an order drawn anew;
    some cancel an order as soon as it is placed, giving its use back. Without cancellations
    exactly min(limit, sum of each customer's min(attempts, per-customer limit)) orders get
    the coupon; with them, the coupon's count is always its live redemptions, within both
    limits."""
    shop, wanted = _shop(), iter(cancels)
    customers = [Actor(f"customer-{n}") for n in range(len(attempts))]
    placed: list[Order] = []
    refusals: list[CouponRefusal] = []

    async def shopper(customer: Actor, times: int, plan: Plan) -> None:
        for _ in range(times):
            await asyncio.sleep(turns.random() / 1_000)  # the burst's order is drawn
            await shop.fill(customer, plan)
            try:
                order = await shop.orders.checkout(customer, coupon_code="BURST")
            except CouponRefused as refused:
                refusals.append(refused.reason)
                continue
            placed.append(order)
            if next(wanted, False):
                await shop.orders.cancel(customer, order.id)

    async def burst() -> tuple[Coupon, list[Order]]:
        plan = await shop.plan(5_000)
        coupon = await shop.coupon("BURST", max_redemptions=limit, max_per_customer=per_customer)
        await asyncio.gather(
            *(shopper(c, n, plan) for c, n in zip(customers, attempts, strict=True))
        )
        return await shop.stored_coupon(coupon.id), await shop.stored_orders()

    coupon, stored = asyncio.run(burst())
    live = [o for o in stored if o.status is OrderStatus.PENDING]
    assert set(refusals) <= {CouponRefusal.EXHAUSTED, CouponRefusal.CUSTOMER_LIMIT_REACHED}
    assert all(o.discount == pen(500) for o in placed)
    assert coupon.redemptions == len(live) <= limit
    if per_customer is not None:
        assert all(sum(o.customer_id == c.id for o in live) <= per_customer for c in customers)
    if not any(cancels[: len(placed)]):
        cap = per_customer or max(attempts)
        assert len(placed) == min(limit, sum(min(cap, n) for n in attempts))
