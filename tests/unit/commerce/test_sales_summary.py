"""The sales summary: per UTC day of payment, what was paid and kept, and what was refunded."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from talia_core.commerce.order import Order
from talia_core.commerce.sales import SalesDay
from talia_core.shared.clock import FakeClock
from talia_core.shared.errors import Forbidden, RuleViolated
from tests.unit.commerce.builders import ADMIN, ANA, LUIS, Shop, pen

DAY_ONE = date(2026, 3, 10)


async def _paid_at(shop: Shop, clock: FakeClock, at: datetime, order: Order) -> Order:
    clock.current = at
    await shop.notify(shop.notification(order))
    return await shop.stored_order(order.id)


async def test_the_summary_adds_up_each_day_of_payment(shop: Shop, clock: FakeClock) -> None:
    clock.current = datetime(2026, 3, 9, 20, 0, tzinfo=UTC)
    plan, template = await shop.plan(5_000), await shop.template(3_000)
    await shop.coupon("HOLA10", percent_off=10)
    discounted = await shop.pending(ANA, plan, coupon_code="HOLA10")  # 45.00, 5.00 off
    plain = await shop.pending(LUIS, template)  # 30.00
    refunded = await shop.pending(ANA, plan)  # 50.00
    fulfilled = await shop.pending(LUIS, plan, template)  # 80.00
    never_paid = await shop.pending(ANA, template)
    cancelled = await shop.pending(LUIS, template)
    await shop.orders.cancel(LUIS, cancelled.id)

    await _paid_at(shop, clock, datetime(2026, 3, 10, 0, 0, tzinfo=UTC), discounted)
    await _paid_at(shop, clock, datetime(2026, 3, 10, 23, 59, 59, tzinfo=UTC), plain)
    await _paid_at(shop, clock, datetime(2026, 3, 11, 9, 0, tzinfo=UTC), refunded)
    await _paid_at(shop, clock, datetime(2026, 3, 11, 10, 0, tzinfo=UTC), fulfilled)
    clock.advance(timedelta(days=5))  # refunds and fulfilment count on the day of payment
    await shop.refunded(refunded)
    await shop.orders.fulfil(ADMIN, fulfilled.id)

    summary = await shop.orders.sales_summary(ADMIN, DAY_ONE, date(2026, 3, 20))

    assert summary.days == [
        SalesDay(date(2026, 3, 10), 2, pen(7_500), pen(500), 0, pen(0)),
        SalesDay(date(2026, 3, 11), 1, pen(8_000), pen(0), 1, pen(5_000)),
    ]
    assert (summary.first, summary.last, summary.currency) == (DAY_ONE, date(2026, 3, 20), "PEN")
    assert (summary.orders, summary.revenue, summary.discounts) == (3, pen(15_500), pen(500))
    assert (await shop.stored_order(never_paid.id)).paid_at is None


async def test_the_summary_counts_only_payments_inside_its_days(
    shop: Shop, clock: FakeClock
) -> None:
    plan = await shop.plan(1_000)
    orders = [await shop.pending(ANA, plan) for _ in range(4)]
    just_before = datetime(2026, 3, 9, 23, 59, 59, tzinfo=UTC)
    first_instant = datetime(2026, 3, 10, 0, 0, tzinfo=UTC)
    last_instant = datetime(2026, 3, 12, 23, 59, 59, 999_999, tzinfo=UTC)
    just_after = datetime(2026, 3, 13, 0, 0, tzinfo=UTC)
    instants = [just_before, first_instant, last_instant, just_after]
    for order, at in zip(orders, instants, strict=True):
        await _paid_at(shop, clock, at, order)

    summary = await shop.orders.sales_summary(ADMIN, DAY_ONE, date(2026, 3, 12))

    assert [(d.day, d.orders) for d in summary.days] == [
        (date(2026, 3, 10), 1),
        (date(2026, 3, 12), 1),
    ]
    assert summary.revenue == pen(2_000)


async def test_a_single_day_summary_covers_that_whole_day(shop: Shop, clock: FakeClock) -> None:
    order = await shop.pending(ANA, await shop.plan(1_000))
    await _paid_at(shop, clock, datetime(2026, 3, 10, 12, 0, tzinfo=UTC), order)
    summary = await shop.orders.sales_summary(ADMIN, DAY_ONE, DAY_ONE)
    assert [d.day for d in summary.days] == [DAY_ONE]


async def test_a_period_without_sales_has_no_days(shop: Shop) -> None:
    summary = await shop.orders.sales_summary(ADMIN, DAY_ONE, date(2026, 3, 31))
    assert (summary.days, summary.orders, summary.revenue) == ([], 0, pen(0))


async def test_only_an_admin_reads_the_sales(shop: Shop) -> None:
    with pytest.raises(Forbidden):
        await shop.orders.sales_summary(ANA, DAY_ONE, DAY_ONE)


async def test_a_period_of_a_leap_year_is_the_longest_allowed(shop: Shop) -> None:
    last = DAY_ONE + timedelta(days=365)  # 366 days counting both ends
    summary = await shop.orders.sales_summary(ADMIN, DAY_ONE, last)
    assert summary.days == []


@pytest.mark.parametrize(
    "last",
    [DAY_ONE + timedelta(days=366), DAY_ONE + timedelta(days=3_650), DAY_ONE - timedelta(days=1)],
    ids=["367 days", "ten years", "ending before it starts"],
)
async def test_a_period_over_366_days_or_backwards_is_refused(shop: Shop, last: date) -> None:
    with pytest.raises(RuleViolated) as refused:
        await shop.orders.sales_summary(ADMIN, DAY_ONE, last)
    assert refused.value.fields == {"to": "out of range"}
