"""One contract for the commerce repositories: the in-memory fake and SQL on every database.

The races at the end run on the real databases only: they prove that the database's locks
and unique keys, not the process, keep a coupon within its limit and a payment once.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from functools import partial

import attrs
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.commerce.tables import coupons
from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWork
from talia_core.catalog.model import Plan, Template
from talia_core.commerce.cart import Cart
from talia_core.commerce.coupon import Coupon, CouponKind, CouponRefusal, Redemption
from talia_core.commerce.order import Order, OrderStatus
from talia_core.commerce.payment import PaymentNotification
from talia_core.commerce.payment_journal import NotificationOutcome, PaymentEntry
from talia_core.commerce.products import Line, Product, ProductKind, ProductRef
from talia_core.commerce.sales import Sale
from talia_core.shared.errors import ConcurrentWrite, Conflict, NotFound
from talia_core.shared.money import Money
from talia_core.shared.pagination import PageRequest
from tests.conftest import UowFactory

T0 = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)
PEN = "PEN"
GOLD = ProductRef(ProductKind.PLAN, "0190a000-0000-7000-8000-000000000001")
ROSES = ProductRef(ProductKind.TEMPLATE, "0190a000-0000-7000-8000-000000000002")
LINES = [Line(GOLD, "Gold", Money(5_000, PEN), 2), Line(ROSES, "Roses", Money(1_990, PEN), 1)]


def _at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def _coupon(
    code: str, *, minutes: int = 0, active: bool = True, max_redemptions: int | None = None
) -> Coupon:
    return Coupon.create(
        code=code,
        kind=CouponKind.PERCENTAGE,
        percent_off_bp=1_000,
        max_redemptions=max_redemptions,
        active=active,
        at=_at(minutes),
    )


def _order(
    number: int,
    *,
    customer: str = "customer-1",
    minutes: int = 0,
    discount: int = 0,
    coupon: Coupon | None = None,
) -> Order:
    return Order.place(
        number=number,
        customer_id=customer,
        lines=LINES,
        currency=PEN,
        discount=Money(discount, PEN),
        coupon=coupon,
        at=_at(minutes),
    )


def _entry(
    transaction: str | None, *, minutes: int = 0, order_id: str | None = None
) -> PaymentEntry:
    if transaction is None:
        entry = PaymentEntry(
            provider="izipay",
            outcome=NotificationOutcome.REJECTED,
            received_at=_at(minutes),
            detail="bad signature",
        )
    else:
        notification = PaymentNotification(
            "izipay", "TA-000001", transaction, "PAID", Money(11_990, PEN)
        )
        entry = PaymentEntry.of(notification, NotificationOutcome.APPLIED, at=_at(minutes))
    entry.order_id = order_id
    return entry


async def _add_coupons(uow_factory: UowFactory, *coupons: Coupon) -> None:
    async with uow_factory() as uow:
        for coupon in coupons:
            await uow.coupons.add(coupon)
        await uow.commit()


async def _add_orders(uow_factory: UowFactory, *orders: Order) -> None:
    async with uow_factory() as uow:
        for order in orders:
            await uow.orders.add(order)
        await uow.commit()


# ---------------------------------------------------------------------------------- products


async def test_products_are_found_in_both_catalog_tables_active_or_not(
    uow_factory: UowFactory,
) -> None:
    plan = Plan.create(name="Gold", price=Money(5_000, PEN), features=[], active=True, at=T0)
    template = Template.create(
        name="Roses",
        category="weddings",
        price=Money(1_990, PEN),
        preview_url=None,
        active=False,
        at=T0,
    )
    async with uow_factory() as uow:
        await uow.plans.add(plan)
        await uow.templates.add(template)
        await uow.commit()
    plan_ref = ProductRef(ProductKind.PLAN, plan.id)
    template_ref = ProductRef(ProductKind.TEMPLATE, template.id)
    # A plan's id asked for as a template is another product, which does not exist.
    wrong_kind = ProductRef(ProductKind.TEMPLATE, plan.id)
    async with uow_factory(read_only=True) as uow:
        found = await uow.products.find([plan_ref, template_ref, wrong_kind, GOLD])
        nothing = await uow.products.find([])
    assert found == {
        plan_ref: Product(plan_ref, "Gold", Money(5_000, PEN), True),
        template_ref: Product(template_ref, "Roses", Money(1_990, PEN), False),
    }
    assert nothing == {}


# ------------------------------------------------------------------------------------- carts


async def test_a_customer_without_a_cart_has_none(uow_factory: UowFactory) -> None:
    async with uow_factory(read_only=True) as uow:
        assert await uow.carts.get_for("customer-1") is None


async def test_a_saved_cart_reads_back_with_its_items_in_order(uow_factory: UowFactory) -> None:
    cart = Cart.open("customer-1", at=T0)
    cart.add(ROSES, 2, at=T0)
    cart.add(GOLD, 1, at=T0)  # added at the same moment: the order is still kept
    other = Cart.open("customer-2", at=None)
    async with uow_factory() as uow:
        await uow.carts.save(cart)
        await uow.carts.save(other)
        await uow.commit()
    async with uow_factory(read_only=True) as uow:
        assert await uow.carts.get_for("customer-1") == cart
        stored_other = await uow.carts.get_for("customer-2")
    assert stored_other == other
    assert stored_other is not None
    assert stored_other.updated_at is None
    assert stored_other.items == []


async def test_saving_a_cart_stores_exactly_its_current_items(uow_factory: UowFactory) -> None:
    cart = Cart.open("customer-1", at=T0)
    roses = cart.add(ROSES, 1, at=T0)
    cart.add(GOLD, 1, at=T0)
    async with uow_factory() as uow:
        await uow.carts.save(cart)
        await uow.commit()
    async with uow_factory() as uow:
        stored = await uow.carts.get_for("customer-1")
        assert stored is not None
        stored.remove(roses.id, at=_at(1))
        stored.add(GOLD, 2, at=_at(1))
        stored.add(ROSES, 5, at=_at(2))  # back again, as a new line at the end
        await uow.carts.save(stored)
        await uow.commit()
    async with uow_factory() as uow:
        again = await uow.carts.get_for("customer-1")
        assert again == stored
        assert again is not None
        assert [(i.ref, i.quantity) for i in again.items] == [(GOLD, 3), (ROSES, 5)]
        again.clear(at=_at(3))
        await uow.carts.save(again)
        await uow.commit()
    async with uow_factory(read_only=True) as uow:
        emptied = await uow.carts.get_for("customer-1")
    assert emptied is not None
    assert emptied.id == cart.id
    assert emptied.items == []
    assert emptied.updated_at == _at(3)


async def test_a_cart_left_without_commit_is_not_saved(uow_factory: UowFactory) -> None:
    cart = Cart.open("customer-1", at=T0)
    cart.add(GOLD, 1, at=T0)
    async with uow_factory() as uow:
        await uow.carts.save(cart)
    async with uow_factory(read_only=True) as uow:
        assert await uow.carts.get_for("customer-1") is None


# ----------------------------------------------------------------------------------- coupons


async def test_a_coupon_with_every_term_reads_back_equal(uow_factory: UowFactory) -> None:
    coupon = Coupon.create(
        code="welcome-10",
        kind=CouponKind.FIXED,
        amount_off=Money(1_000, PEN),
        minimum_order=Money(5_000, PEN),
        valid_from=_at(-60),
        valid_until=_at(60 * 24 * 30),
        max_redemptions=100,
        max_per_customer=1,
        active=True,
        applies_to=[ROSES, GOLD],
        at=T0,
    )
    coupon.redemptions = 7
    await _add_coupons(uow_factory, coupon)
    async with uow_factory(read_only=True) as uow:
        stored = await uow.coupons.get(coupon.id)
    assert stored == coupon
    assert stored.code == "WELCOME-10"
    assert stored.applies_to == [GOLD, ROSES]
    assert stored.amount_off == Money(1_000, PEN)


async def test_a_coupon_with_no_optional_terms_reads_back_with_nulls(
    uow_factory: UowFactory,
) -> None:
    coupon = _coupon("SPRING")
    await _add_coupons(uow_factory, coupon)
    async with uow_factory(read_only=True) as uow:
        stored = await uow.coupons.by_code("SPRING")
    assert stored == coupon
    assert stored is not None
    assert (stored.amount_off, stored.minimum_order, stored.valid_from) == (None, None, None)
    assert (stored.max_redemptions, stored.applies_to, stored.percent_off_bp) == (None, [], 1_000)


async def test_an_unknown_coupon_is_not_found_by_id_and_none_by_code(
    uow_factory: UowFactory,
) -> None:
    async with uow_factory() as uow:
        with pytest.raises(NotFound):
            await uow.coupons.get("no-such-coupon")
        assert await uow.coupons.by_code("NOPE") is None


async def test_a_coupon_code_is_taken_once(uow_factory: UowFactory) -> None:
    await _add_coupons(uow_factory, _coupon("SPRING"))
    with pytest.raises(Conflict):
        async with uow_factory() as uow:
            await uow.coupons.add(_coupon("spring"))
            await uow.commit()


async def test_a_revised_coupon_stores_its_terms_and_keeps_its_count_of_uses(
    uow_factory: UowFactory,
) -> None:
    coupon = _coupon("SPRING", max_redemptions=5)
    await _add_coupons(uow_factory, coupon)
    async with uow_factory() as uow:
        stored = await uow.coupons.get(coupon.id)
        assert await uow.coupons.take_use(_use(coupon, "order-1")) is None
        stored.revise(
            at=_at(2),
            active=False,
            valid_until=_at(60),
            max_redemptions=3,
            max_per_customer=2,
            minimum_order=Money(2_000, PEN),
        )
        await uow.coupons.update(stored)  # read before the use: the count is not its to write
        await uow.commit()
    async with uow_factory(read_only=True) as uow:
        again = await uow.coupons.get(coupon.id)
    assert again == attrs.evolve(stored, redemptions=1, updated_at=_at(2))
    assert (again.redemptions, again.max_redemptions, again.active) == (1, 3, False)


async def test_coupons_list_newest_first_and_filter_by_active(uow_factory: UowFactory) -> None:
    created = [_coupon(f"CODE-{n}", minutes=n, active=n != 2) for n in range(4)]
    await _add_coupons(uow_factory, *created)
    async with uow_factory(read_only=True) as uow:
        first = await uow.coupons.find(PageRequest(limit=2), active=None)
        second = await uow.coupons.find(PageRequest(limit=2, offset=2), active=None)
        active = await uow.coupons.find(PageRequest(), active=True)
        inactive = await uow.coupons.find(PageRequest(), active=False)
        past_the_end = await uow.coupons.find(PageRequest(offset=10), active=None)
    assert [c.code for c in first.items] == ["CODE-3", "CODE-2"]
    assert [c.code for c in second.items] == ["CODE-1", "CODE-0"]
    assert first.total == second.total == 4
    assert [c.code for c in active.items] == ["CODE-3", "CODE-1", "CODE-0"]
    assert [c.code for c in inactive.items] == ["CODE-2"]
    assert (past_the_end.items, past_the_end.total) == ([], 4)


# ------------------------------------------------------------------------------- redemptions


def _use(coupon: Coupon, order: str, customer: str = "customer-1", minutes: int = 1) -> Redemption:
    return Redemption(coupon.id, customer, order, _at(minutes))


async def test_a_use_is_taken_until_the_total_limit_and_refused_past_it(
    uow_factory: UowFactory,
) -> None:
    coupon = _coupon("SPRING", max_redemptions=2)
    await _add_coupons(uow_factory, coupon)
    async with uow_factory() as uow:
        assert await uow.coupons.take_use(_use(coupon, "order-1")) is None
        assert await uow.coupons.take_use(_use(coupon, "order-2", "customer-2")) is None
        refused = await uow.coupons.take_use(_use(coupon, "order-3", "customer-3"))
        await uow.commit()
    assert refused is CouponRefusal.EXHAUSTED
    async with uow_factory(read_only=True) as uow:
        stored = await uow.coupons.get(coupon.id)
        assert await uow.redemptions.live_count(coupon.id, "customer-3") == 0
    assert (stored.redemptions, stored.updated_at) == (2, _at(1))


async def test_a_use_past_the_customers_limit_is_refused_and_changes_nothing(
    uow_factory: UowFactory,
) -> None:
    coupon = Coupon.create(
        code="TWICE", kind=CouponKind.PERCENTAGE, percent_off_bp=1_000, max_per_customer=2, at=T0
    )
    await _add_coupons(uow_factory, coupon)
    async with uow_factory() as uow:
        taken = [await uow.coupons.take_use(_use(coupon, f"order-{n}")) for n in range(3)]
        other = await uow.coupons.take_use(_use(coupon, "order-9", "customer-2"))
        await uow.commit()
    assert taken == [None, None, CouponRefusal.CUSTOMER_LIMIT_REACHED]
    assert other is None
    async with uow_factory(read_only=True) as uow:
        assert await uow.redemptions.live_count(coupon.id, "customer-1") == 2
        assert await uow.redemptions.live_count(coupon.id, "customer-2") == 1
        assert (await uow.coupons.get(coupon.id)).redemptions == 3


async def test_live_count_counts_the_customers_unreleased_uses_of_the_coupon_only(
    uow_factory: UowFactory,
) -> None:
    coupon, other = _coupon("SPRING"), _coupon("SUMMER")
    async with uow_factory() as uow:
        await uow.coupons.add(coupon)
        await uow.coupons.add(other)
        for use in (
            _use(coupon, "order-1"),
            _use(coupon, "order-2"),
            _use(coupon, "order-3"),
            _use(coupon, "order-4", "customer-2"),
            _use(other, "order-5"),
        ):
            assert await uow.coupons.take_use(use) is None
        assert await uow.coupons.give_back(coupon.id, "order-3", at=_at(4)) is True
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.redemptions.live_count(coupon.id, "customer-1") == 2
        assert await uow.redemptions.live_count(coupon.id, "customer-2") == 1
        assert await uow.redemptions.live_count(other.id, "customer-2") == 0
    async with uow_factory(read_only=True) as uow:
        assert await uow.redemptions.live_count(coupon.id, "customer-1") == 2


async def test_a_use_given_back_frees_it_once(uow_factory: UowFactory) -> None:
    coupon = _coupon("SPRING", max_redemptions=1)
    async with uow_factory() as uow:
        await uow.coupons.add(coupon)
        assert await uow.coupons.take_use(_use(coupon, "order-1")) is None
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.coupons.give_back(coupon.id, "order-1", at=_at(2)) is True
        assert await uow.coupons.give_back(coupon.id, "order-1", at=_at(3)) is False
        assert await uow.coupons.give_back(coupon.id, "order-2", at=_at(3)) is False
        await uow.commit()
    async with uow_factory() as uow:
        stored = await uow.coupons.get(coupon.id)
        assert (stored.redemptions, stored.updated_at) == (0, _at(2))
        assert await uow.redemptions.live_count(coupon.id, "customer-1") == 0
        assert await uow.coupons.take_use(_use(coupon, "order-2", minutes=4)) is None
        await uow.commit()
    async with uow_factory(read_only=True) as uow:
        assert (await uow.coupons.get(coupon.id)).redemptions == 1


async def test_an_order_uses_a_coupon_once(uow_factory: UowFactory) -> None:
    coupon = _coupon("SPRING")
    async with uow_factory() as uow:
        await uow.coupons.add(coupon)
        assert await uow.coupons.take_use(_use(coupon, "order-1")) is None
        await uow.commit()
    with pytest.raises(Conflict):
        async with uow_factory() as uow:
            await uow.coupons.take_use(_use(coupon, "order-1", minutes=2))
            await uow.commit()


# ------------------------------------------------------------------------------------ orders


async def test_a_placed_order_reads_back_with_items_history_and_nulls(
    uow_factory: UowFactory,
) -> None:
    order = _order(1)
    await _add_orders(uow_factory, order)
    async with uow_factory(read_only=True) as uow:
        stored = await uow.orders.get(order.id)
        by_number = await uow.orders.by_number(1)
    assert stored == order
    assert by_number == order
    assert [(i.name, i.unit_price, i.quantity) for i in stored.items] == [
        ("Gold", Money(5_000, PEN), 2),
        ("Roses", Money(1_990, PEN), 1),
    ]
    assert [(t.from_status, t.to_status) for t in stored.history] == [(None, OrderStatus.PENDING)]
    assert (stored.paid_at, stored.payment_reference, stored.coupon_id) == (None, None, None)
    assert stored.total == Money(11_990, PEN)


async def test_an_order_with_a_coupon_keeps_its_discount_and_code(
    uow_factory: UowFactory,
) -> None:
    coupon = _coupon("SPRING")
    order = _order(1, discount=1_199, coupon=coupon)
    await _add_orders(uow_factory, order)
    async with uow_factory(read_only=True) as uow:
        stored = await uow.orders.get(order.id)
    assert stored == order
    assert (stored.discount, stored.coupon_id, stored.coupon_code) == (
        Money(1_199, PEN),
        coupon.id,
        "SPRING",
    )
    assert stored.total == Money(10_791, PEN)


async def test_an_order_update_stores_its_state_and_appends_history_in_time_order(
    uow_factory: UowFactory,
) -> None:
    order = _order(1)
    await _add_orders(uow_factory, order)
    async with uow_factory() as uow:
        stored = await uow.orders.by_number(1)
        assert stored is not None
        paid = stored.pay(transaction="tx-1", actor="gateway:izipay", at=_at(5))
        await uow.orders.update(stored, paid)
        await uow.commit()
    async with uow_factory() as uow:
        stored = await uow.orders.get(order.id)
        stored.flag_for_review("paid twice", at=_at(6))
        await uow.orders.update(stored)  # no step of its life: only the state changes
        refunding = stored.start_refund(actor="admin-1", at=_at(7))
        refunded = stored.finish_refund(actor="admin-1", at=_at(8), note="customer asked")
        await uow.orders.update(stored, refunding, refunded)
        await uow.commit()
    async with uow_factory(read_only=True) as uow:
        again = await uow.orders.get(order.id)
    assert again == stored
    assert [t.to_status for t in again.history] == [
        OrderStatus.PENDING,
        OrderStatus.PAID,
        OrderStatus.REFUNDING,
        OrderStatus.REFUNDED,
    ]
    assert (again.status, again.paid_at, again.payment_reference) == (
        OrderStatus.REFUNDED,
        _at(5),
        "tx-1",
    )
    assert again.review_reason == "paid twice"
    assert again.history[-1].note == "customer asked"


async def test_an_unknown_order_is_not_found_by_id_and_none_by_number(
    uow_factory: UowFactory,
) -> None:
    async with uow_factory() as uow:
        with pytest.raises(NotFound):
            await uow.orders.get("no-such-order")
        assert await uow.orders.by_number(42) is None
        assert await uow.orders.by_number(999_999_999_999) is None


async def test_an_order_number_is_taken_once(uow_factory: UowFactory) -> None:
    await _add_orders(uow_factory, _order(1))
    with pytest.raises(Conflict):
        await _add_orders(uow_factory, _order(1))


async def test_orders_list_newest_first_and_filter_by_customer_status_and_time(
    uow_factory: UowFactory,
) -> None:
    orders = [
        _order(n, customer="customer-1" if n % 2 else "customer-2", minutes=10 * n)
        for n in range(1, 6)
    ]
    orders[0].cancel(actor="customer-1", at=_at(11))
    await _add_orders(uow_factory, *orders)
    async with uow_factory(read_only=True) as uow:
        first = await uow.orders.find(PageRequest(limit=2))
        rest = await uow.orders.find(PageRequest(limit=2, offset=2))
        mine = await uow.orders.find(PageRequest(), customer_id="customer-1")
        pending = await uow.orders.find(PageRequest(), status=OrderStatus.PENDING)
        window = await uow.orders.find(PageRequest(), placed_from=_at(20), placed_until=_at(40))
        mine_pending = await uow.orders.find(
            PageRequest(), customer_id="customer-1", status=OrderStatus.PENDING
        )
    assert [o.number for o in first.items] == [5, 4]
    assert [o.number for o in rest.items] == [3, 2]
    assert first.total == rest.total == 5
    assert rest.items[1] == orders[1]  # listed orders come whole: items and history
    assert [o.number for o in mine.items] == [5, 3, 1]
    assert mine.items[2].history == orders[0].history
    assert [o.number for o in pending.items] == [5, 4, 3, 2]
    assert [o.number for o in window.items] == [3, 2]
    assert ([o.number for o in mine_pending.items], mine_pending.total) == ([5, 3], 2)


async def test_pending_orders_placed_before_a_cutoff_come_oldest_first(
    uow_factory: UowFactory,
) -> None:
    orders = [_order(n, minutes=n) for n in range(1, 6)]
    orders[1].pay(transaction="tx-2", actor="gateway:izipay", at=_at(3))
    await _add_orders(uow_factory, *orders)
    async with uow_factory(read_only=True) as uow:
        stale = await uow.orders.pending_placed_before(_at(4), limit=10)
        first_two = await uow.orders.pending_placed_before(_at(10), limit=2)
    assert stale == [orders[0].id, orders[2].id]  # placed at the cutoff is not before it
    assert first_two == [orders[0].id, orders[2].id]


async def test_sales_are_the_orders_paid_in_the_window_whatever_became_of_them(
    uow_factory: UowFactory,
) -> None:
    def paid(number: int, minutes: int, *, discount: int = 0) -> Order:
        order = _order(number, discount=discount)
        order.pay(transaction=f"tx-{number}", actor="gateway:izipay", at=_at(minutes))
        return order

    before = paid(1, 59)
    at_start = paid(2, 60, discount=1_000)
    refunded = paid(3, 90)
    refunded.start_refund(actor="admin-1", at=_at(200))
    refunded.finish_refund(actor="admin-1", at=_at(201))
    at_end = paid(4, 120)
    unpaid = _order(5, minutes=70)
    await _add_orders(uow_factory, before, at_start, refunded, at_end, unpaid)
    async with uow_factory(read_only=True) as uow:
        sales = await uow.orders.sales(_at(60), _at(120))
    assert sales == [
        Sale(_at(60), OrderStatus.PAID, Money(10_990, PEN), Money(1_000, PEN)),
        Sale(_at(90), OrderStatus.REFUNDED, Money(11_990, PEN), Money(0, PEN)),
    ]


# --------------------------------------------------------------------------- payment journal


async def test_a_notification_is_journaled_once_per_transaction_and_status(
    uow_factory: UowFactory,
) -> None:
    first = _entry("tx-1")
    async with uow_factory() as uow:
        assert await uow.payment_journal.record(first) is True
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.payment_journal.record(_entry("tx-1", minutes=1)) is False
        assert await uow.payment_journal.record(_entry("tx-2", minutes=2)) is True
        await uow.commit()
    async with uow_factory(read_only=True) as uow:
        page = await uow.payment_journal.find(PageRequest(), order_id=None)
    assert page.total == 2
    assert page.items[1] == first
    assert first.amount == Money(11_990, PEN)


async def test_rejected_notifications_without_a_transaction_are_all_kept(
    uow_factory: UowFactory,
) -> None:
    rejected = [_entry(None, minutes=n) for n in range(2)]
    async with uow_factory() as uow:
        assert [await uow.payment_journal.record(e) for e in rejected] == [True, True]
        await uow.commit()
    async with uow_factory(read_only=True) as uow:
        page = await uow.payment_journal.find(PageRequest(), order_id=None)
    assert list(page.items) == rejected[::-1]
    assert (page.items[0].amount, page.items[0].transaction_id) == (None, None)


async def test_the_journal_lists_newest_first_and_filters_by_order(
    uow_factory: UowFactory,
) -> None:
    entries = [
        _entry(f"tx-{n}", minutes=n, order_id="order-1" if n < 3 else None) for n in range(5)
    ]
    async with uow_factory() as uow:
        for entry in entries:
            await uow.payment_journal.record(entry)
        await uow.commit()
    async with uow_factory(read_only=True) as uow:
        newest = await uow.payment_journal.find(PageRequest(limit=2), order_id=None)
        of_order = await uow.payment_journal.find(PageRequest(), order_id="order-1")
    assert [e.transaction_id for e in newest.items] == ["tx-4", "tx-3"]
    assert newest.total == 5
    assert [e.transaction_id for e in of_order.items] == ["tx-2", "tx-1", "tx-0"]


# ------------------------------------------------ races and constraints of the real databases


async def test_concurrent_deliveries_of_one_notification_keep_exactly_one(
    engine: AsyncEngine,
) -> None:
    units = partial(SqlAlchemyUnitOfWork, engine)

    async def deliver() -> bool:
        async with units() as uow:
            kept = await uow.payment_journal.record(_entry("tx-1"))
            await asyncio.sleep(0.05)  # the others arrive while this one is not committed
            await uow.commit()
            return kept

    results = await asyncio.gather(*(deliver() for _ in range(8)))

    assert sorted(results) == [False] * 7 + [True]
    async with units(read_only=True) as uow:
        assert (await uow.payment_journal.find(PageRequest(), order_id=None)).total == 1


async def test_concurrent_uses_of_a_coupon_never_pass_its_limit(engine: AsyncEngine) -> None:
    units = partial(SqlAlchemyUnitOfWork, engine)
    coupon = _coupon("LIMITED", max_redemptions=10)
    await _add_coupons(units, coupon)

    async def checkout(attempt: int) -> CouponRefusal | None:
        async with units() as uow:
            await uow.products.find([GOLD])  # a plain read first, as checkout prices the cart
            refused = await uow.coupons.take_use(_use(coupon, f"order-{attempt}", f"c-{attempt}"))
            await asyncio.sleep(0.01)  # the others arrive while this one holds its use
            await uow.commit()
            return refused

    results = await asyncio.gather(*(checkout(n) for n in range(40)))

    assert results.count(None) == 10
    assert set(results) == {None, CouponRefusal.EXHAUSTED}
    async with units(read_only=True) as uow:
        assert (await uow.coupons.get(coupon.id)).redemptions == 10
        live = sum([await uow.redemptions.live_count(coupon.id, f"c-{n}") for n in range(40)])
    assert live == 10


async def test_concurrent_uses_by_one_customer_never_pass_the_per_customer_limit(
    engine: AsyncEngine,
) -> None:
    units = partial(SqlAlchemyUnitOfWork, engine)
    coupon = Coupon.create(
        code="TWICE", kind=CouponKind.PERCENTAGE, percent_off_bp=1_000, max_per_customer=2, at=T0
    )
    await _add_coupons(units, coupon)

    async def checkout(attempt: int) -> CouponRefusal | None:
        async with units() as uow:
            # A plain read first, as checkout counts the customer's uses: under REPEATABLE
            # READ it fixes the snapshot before the coupon's lock is waited for.
            await uow.redemptions.live_count(coupon.id, "customer-1")
            refused = await uow.coupons.take_use(_use(coupon, f"order-{attempt}"))
            await asyncio.sleep(0.01)
            await uow.commit()
            return refused

    results = await asyncio.gather(*(checkout(n) for n in range(10)))

    assert results.count(None) == 2
    assert set(results) == {None, CouponRefusal.CUSTOMER_LIMIT_REACHED}
    async with units(read_only=True) as uow:
        assert await uow.redemptions.live_count(coupon.id, "customer-1") == 2
        assert (await uow.coupons.get(coupon.id)).redemptions == 2


async def test_uses_given_back_while_others_are_taken_keep_the_count_exact(
    engine: AsyncEngine,
) -> None:
    units = partial(SqlAlchemyUnitOfWork, engine)
    coupon = _coupon("LIMITED", max_redemptions=5)
    async with units() as uow:
        await uow.coupons.add(coupon)
        for n in range(5):
            assert await uow.coupons.take_use(_use(coupon, f"old-{n}", f"old-{n}")) is None
        await uow.commit()

    async def give_back(n: int) -> bool:
        async with units() as uow:
            given = await uow.coupons.give_back(coupon.id, f"old-{n}", at=_at(2))
            await asyncio.sleep(0.01)
            await uow.commit()
            return given

    async def take(n: int) -> CouponRefusal | None:
        async with units() as uow:
            refused = await uow.coupons.take_use(_use(coupon, f"new-{n}", f"new-{n}", 2))
            await asyncio.sleep(0.01)
            await uow.commit()
            return refused

    results = await asyncio.gather(*(give_back(n) for n in range(5)), *(take(n) for n in range(10)))

    assert results[:5] == [True] * 5
    async with units(read_only=True) as uow:
        count = (await uow.coupons.get(coupon.id)).redemptions
        live = [
            await uow.redemptions.live_count(coupon.id, customer)
            for customer in [*(f"old-{n}" for n in range(5)), *(f"new-{n}" for n in range(10))]
        ]
    assert count == sum(live) == results[5:].count(None) <= 5
    assert live[:5] == [0] * 5


async def test_a_customer_holds_one_cart(engine: AsyncEngine) -> None:
    units = partial(SqlAlchemyUnitOfWork, engine)
    first = Cart.open("customer-1", at=T0)
    first.add(GOLD, 1, at=T0)
    async with units() as uow:
        await uow.carts.save(first)
        await uow.commit()
    for items in ([], [ROSES]):
        second = Cart.open("customer-1", at=_at(1))
        for ref in items:
            second.add(ref, 1, at=_at(1))
        with pytest.raises(ConcurrentWrite):  # the unit runs again and finds the first
            async with units() as uow:
                await uow.carts.save(second)
                await uow.commit()
    async with units(read_only=True) as uow:
        assert await uow.carts.get_for("customer-1") == first


async def test_a_coupon_is_never_stored_with_more_redemptions_than_it_allows(
    engine: AsyncEngine,
) -> None:
    units = partial(SqlAlchemyUnitOfWork, engine)
    coupon = _coupon("LIMITED", max_redemptions=2)
    await _add_coupons(units, coupon)
    # The core never asks for it (Coupon.redeem and Coupon.revise refuse); the table's check
    # refuses it too, and a negative count.
    for redemptions in (3, -1):
        with pytest.raises(sa.exc.DBAPIError):
            async with engine.begin() as connection:
                await connection.execute(
                    coupons.update()
                    .where(coupons.c.id == coupon.id)
                    .values(redemptions=redemptions)
                )
    async with units(read_only=True) as uow:
        assert (await uow.coupons.get(coupon.id)).redemptions == 0
