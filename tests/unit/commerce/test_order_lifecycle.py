"""An order's life: cancelled by its customer, paid, fulfilled, refunded or left to expire."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest

from adapters.memory.database import InMemoryDatabase
from adapters.memory.unit_of_work import InMemoryUnitOfWork
from talia_core.commerce.order import EXPIRY_ACTOR, TRANSITIONS, Order, OrderStatus
from talia_core.commerce.payment_journal import NotificationOutcome
from talia_core.shared.clock import FakeClock
from talia_core.shared.errors import Conflict, Forbidden, NotFound
from talia_core.shared.pagination import PageRequest
from tests.unit.commerce.builders import (
    ADMIN,
    ANA,
    LUIS,
    MODEL_MOVES,
    PATHS,
    PENDING_LIFETIME,
    Shop,
    pen,
    placed_order,
)

STALE = PENDING_LIFETIME + timedelta(minutes=1)

# -------------------------------------------------------------------------------- reading


async def test_a_customer_reads_their_own_order(shop: Shop) -> None:
    order = await shop.pending(ANA)
    assert (await shop.orders.get(ANA, order.id)).id == order.id
    assert (await shop.orders.get(ADMIN, order.id)).id == order.id


async def test_another_customers_order_is_as_invisible_as_a_missing_one(shop: Shop) -> None:
    order = await shop.pending(ANA)
    with pytest.raises(NotFound):
        await shop.orders.get(LUIS, order.id)
    with pytest.raises(NotFound):
        await shop.orders.get(ANA, "no-such-order")


async def test_an_order_is_read_by_its_number_and_anothers_is_answered_like_a_missing_one(
    shop: Shop,
) -> None:
    order = await shop.pending(ANA)
    assert (await shop.orders.get_by_number(ANA, order.number)).id == order.id
    assert (await shop.orders.get_by_number(ADMIN, order.number)).id == order.id
    with pytest.raises(NotFound) as someone_elses:
        await shop.orders.get_by_number(LUIS, order.number)
    with pytest.raises(NotFound) as missing:
        await shop.orders.get_by_number(ANA, 999)
    assert someone_elses.value.detail == NotFound("order", order.reference).detail
    assert missing.value.detail == NotFound("order", "TA-000999").detail


async def test_a_customer_lists_only_their_own_orders(shop: Shop, clock: FakeClock) -> None:
    first = await shop.pending(ANA)
    await shop.pending(LUIS)
    clock.advance(timedelta(minutes=1))
    second = await shop.pending(ANA)
    await shop.orders.cancel(ANA, first.id)
    page = await shop.orders.list_own(ANA, PageRequest())
    assert [o.id for o in page.items] == [second.id, first.id]
    cancelled = await shop.orders.list_own(ANA, PageRequest(), status=OrderStatus.CANCELLED)
    assert [o.id for o in cancelled.items] == [first.id]


async def test_only_an_admin_lists_everyones_orders(shop: Shop) -> None:
    await shop.pending(ANA)
    await shop.pending(LUIS)
    with pytest.raises(Forbidden):
        await shop.orders.list_all(ANA, PageRequest())
    assert (await shop.orders.list_all(ADMIN, PageRequest())).total == 2
    only_luis = await shop.orders.list_all(ADMIN, PageRequest(), customer_id=LUIS.id)
    assert [o.customer_id for o in only_luis.items] == [LUIS.id]


# ----------------------------------------------------------------------------- cancelling


async def test_a_customer_cancels_their_pending_order(shop: Shop, clock: FakeClock) -> None:
    order = await shop.pending(ANA)
    clock.advance(timedelta(minutes=5))
    await shop.orders.cancel(ANA, order.id)
    stored = await shop.stored_order(order.id)
    assert stored.status is OrderStatus.CANCELLED
    assert stored.updated_at == clock.now()
    last = stored.history[-1]
    assert (last.from_status, last.to_status, last.actor, last.at) == (
        OrderStatus.PENDING,
        OrderStatus.CANCELLED,
        ANA.id,
        clock.now(),
    )


async def test_an_admin_cancels_anyones_pending_order(shop: Shop) -> None:
    order = await shop.pending(ANA)
    await shop.orders.cancel(ADMIN, order.id)
    stored = await shop.stored_order(order.id)
    assert (stored.status, stored.history[-1].actor) == (OrderStatus.CANCELLED, ADMIN.id)


async def test_another_customer_cannot_cancel_an_order(shop: Shop) -> None:
    order = await shop.pending(ANA)
    with pytest.raises(NotFound):
        await shop.orders.cancel(LUIS, order.id)
    assert await shop.stored_order(order.id) == order


async def test_an_order_is_cancelled_once(shop: Shop, clock: FakeClock) -> None:
    order = await shop.pending(ANA)
    await shop.orders.cancel(ANA, order.id)
    cancelled = await shop.stored_order(order.id)
    clock.advance(timedelta(minutes=1))
    with pytest.raises(Conflict):
        await shop.orders.cancel(ANA, order.id)
    assert await shop.stored_order(order.id) == cancelled


async def test_cancelling_gives_the_coupon_back(shop: Shop) -> None:
    plan = await shop.plan(5_000)
    coupon = await shop.coupon("ONLYONE", max_redemptions=1, max_per_customer=1)
    order = await shop.pending(ANA, plan, coupon_code="ONLYONE")
    await shop.orders.cancel(ANA, order.id)
    assert (await shop.stored_coupon(coupon.id)).redemptions == 0
    again = await shop.pending(ANA, plan, coupon_code="ONLYONE")
    assert again.discount == pen(500)
    assert (await shop.stored_coupon(coupon.id)).redemptions == 1


async def test_a_refused_second_cancellation_gives_nothing_back_twice(shop: Shop) -> None:
    plan = await shop.plan(5_000)
    coupon = await shop.coupon("SHARED", max_redemptions=5)
    order = await shop.pending(ANA, plan, coupon_code="SHARED")
    await shop.pending(LUIS, plan, coupon_code="SHARED")
    await shop.orders.cancel(ANA, order.id)
    with pytest.raises(Conflict):
        await shop.orders.cancel(ADMIN, order.id)
    assert (await shop.stored_coupon(coupon.id)).redemptions == 1


async def test_cancelling_an_order_without_a_coupon_touches_no_coupon(shop: Shop) -> None:
    coupon = await shop.coupon()
    await shop.pending(LUIS, coupon_code=coupon.code)
    order = await shop.pending(ANA)
    await shop.orders.cancel(ANA, order.id)
    assert (await shop.stored_coupon(coupon.id)).redemptions == 1


# ------------------------------------------------------------------ refunds and fulfilment


async def test_an_admin_refunds_a_paid_order(shop: Shop, database: InMemoryDatabase) -> None:
    order = await shop.paid(ANA)
    await shop.refunded(order, note="customer changed their mind")
    stored = await shop.stored_order(order.id)
    assert stored.status is OrderStatus.REFUNDED
    requested, done = stored.history[-2:]
    assert (requested.from_status, requested.actor, requested.note) == (
        OrderStatus.PAID,
        ADMIN.id,
        "customer changed their mind",
    )
    assert (done.from_status, done.actor, done.note) == (
        OrderStatus.REFUNDING,
        ADMIN.id,
        "fake refund refund-1: customer changed their mind",
    )
    refunded = [e for e in database.committed.outbox if e.name == "order.refunded"]
    assert [e.data for e in refunded] == [{"order_id": order.id, "number": order.number}]


async def test_a_customer_cannot_refund_even_their_own_order(shop: Shop) -> None:
    order = await shop.paid(ANA)
    with pytest.raises(Forbidden):
        await shop.orders.refund(ANA, order.id)
    assert await shop.stored_order(order.id) == order


async def test_only_a_paid_order_is_refunded(shop: Shop, database: InMemoryDatabase) -> None:
    order = await shop.pending(ANA)
    with pytest.raises(Conflict):
        await shop.orders.refund(ADMIN, order.id)
    assert await shop.stored_order(order.id) == order
    assert [e.name for e in database.committed.outbox] == []
    assert shop.gateway.refunds == []


async def test_an_admin_fulfils_a_paid_order(shop: Shop, clock: FakeClock) -> None:
    order = await shop.paid(ANA)
    clock.advance(timedelta(days=1))
    await shop.orders.fulfil(ADMIN, order.id)
    stored = await shop.stored_order(order.id)
    assert stored.status is OrderStatus.FULFILLED
    assert (stored.history[-1].actor, stored.history[-1].at) == (ADMIN.id, clock.now())


async def test_a_customer_cannot_fulfil_an_order(shop: Shop) -> None:
    order = await shop.paid(ANA)
    with pytest.raises(Forbidden):
        await shop.orders.fulfil(ANA, order.id)
    assert (await shop.stored_order(order.id)).status is OrderStatus.PAID


async def test_refunding_or_fulfilling_an_unknown_order_is_not_found(shop: Shop) -> None:
    with pytest.raises(NotFound):
        await shop.orders.refund(ADMIN, "no-such-order")
    with pytest.raises(NotFound):
        await shop.orders.fulfil(ADMIN, "no-such-order")


# ----------------------------------------------------------------- every illegal transition

ALL_PAIRS = [(start, target) for start in OrderStatus for target in MODEL_MOVES]


@pytest.mark.parametrize(
    ("start", "target"), ALL_PAIRS, ids=[f"{s.value}->{t.value}" for s, t in ALL_PAIRS]
)
def test_an_order_moves_only_along_the_transition_table(
    clock: FakeClock, start: OrderStatus, target: OrderStatus
) -> None:
    order = placed_order(clock.now())
    for step in PATHS[start]:
        MODEL_MOVES[step](order, clock.now())
    assert order.status is start
    before = copy.deepcopy(order)
    clock.advance(timedelta(minutes=1))
    if target in TRANSITIONS.get(start, frozenset()):
        transition = MODEL_MOVES[target](order, clock.now())
        assert (order.status, order.updated_at) == (target, clock.now())
        assert order.history == [*before.history, transition]
        assert (transition.from_status, transition.to_status) == (start, target)
    else:
        with pytest.raises(Conflict):
            MODEL_MOVES[target](order, clock.now())
        assert order == before


Move = Callable[[Shop, Order], Awaitable[object]]


async def _cancel(shop: Shop, order: Order) -> object:
    return await shop.orders.cancel(ADMIN, order.id)


async def _fulfil(shop: Shop, order: Order) -> object:
    return await shop.orders.fulfil(ADMIN, order.id)


async def _refund(shop: Shop, order: Order) -> object:
    return await shop.orders.refund(ADMIN, order.id)


SERVICE_MOVES: dict[OrderStatus, Move] = {
    OrderStatus.CANCELLED: _cancel,
    OrderStatus.FULFILLED: _fulfil,
    OrderStatus.REFUNDING: _refund,
}

# Asking again for a refund that is running answers the order as it is (``test_refunds``).
ILLEGAL = [
    (start, target)
    for start in OrderStatus
    for target in SERVICE_MOVES
    if target not in TRANSITIONS.get(start, frozenset())
    and not start is target is OrderStatus.REFUNDING
]


@pytest.mark.parametrize(
    ("start", "target"), ILLEGAL, ids=[f"{s.value}->{t.value}" for s, t in ILLEGAL]
)
async def test_an_illegal_move_is_refused_and_the_order_kept(
    shop: Shop, database: InMemoryDatabase, start: OrderStatus, target: OrderStatus
) -> None:
    order = await shop.in_status(start)
    outbox = list(database.committed.outbox)
    refunds = list(shop.gateway.refunds)
    with pytest.raises(Conflict):
        await SERVICE_MOVES[target](shop, order)
    assert await shop.stored_order(order.id) == order
    assert database.committed.outbox == outbox
    assert shop.gateway.refunds == refunds


@pytest.mark.parametrize("start", [s for s in OrderStatus if s is not OrderStatus.PENDING])
async def test_only_a_pending_order_expires(shop: Shop, start: OrderStatus) -> None:
    order = await shop.in_status(start)
    shop.clock.advance(STALE)
    report = await shop.orders.expire_stale()
    assert (report.examined, report.expired) == (0, 0)
    assert await shop.stored_order(order.id) == order


@pytest.mark.parametrize("start", [s for s in OrderStatus if s is not OrderStatus.PENDING])
async def test_a_payment_for_an_order_that_is_not_pending_changes_no_status(
    shop: Shop, start: OrderStatus
) -> None:
    order = await shop.in_status(start)
    result = await shop.notify(shop.notification(order, transaction="tx-late"))
    assert result.outcome is NotificationOutcome.REVIEW
    stored = await shop.stored_order(order.id)
    assert (stored.status, stored.history) == (order.status, order.history)
    assert stored.review_reason is not None


async def test_every_step_is_recorded_with_who_and_when(shop: Shop, clock: FakeClock) -> None:
    placed_at = clock.now()
    order = await shop.pending(ANA)
    clock.advance(timedelta(minutes=10))
    paid_at = clock.now()
    await shop.notify(shop.notification(order, transaction="tx-42"))
    clock.advance(timedelta(days=2))
    fulfilled_at = clock.now()
    await shop.orders.fulfil(ADMIN, order.id)
    stored = await shop.stored_order(order.id)
    assert [(t.from_status, t.to_status, t.actor, t.at, t.note) for t in stored.history] == [
        (None, OrderStatus.PENDING, ANA.id, placed_at, "checkout"),
        (OrderStatus.PENDING, OrderStatus.PAID, "gateway:fake", paid_at, "tx-42"),
        (OrderStatus.PAID, OrderStatus.FULFILLED, ADMIN.id, fulfilled_at, None),
    ]
    assert {t.order_id for t in stored.history} == {order.id}


# -------------------------------------------------------------------------------- expiry


async def test_expiry_expires_only_pending_orders_older_than_their_lifetime(
    shop: Shop, clock: FakeClock
) -> None:
    plan = await shop.plan(5_000)
    coupon = await shop.coupon("HOLA10", max_redemptions=5)
    stale_plain = await shop.pending(ANA, plan)
    stale_with_coupon = await shop.pending(LUIS, plan, coupon_code="HOLA10")
    stale_paid = await shop.paid(ANA, plan)
    stale_cancelled = await shop.orders.cancel(ANA, (await shop.pending(ANA, plan)).id)
    clock.advance(STALE)
    fresh = await shop.pending(ANA, plan)
    seen: list[tuple[int, int]] = []

    report = await shop.orders.expire_stale(progress=lambda done, of: seen.append((done, of)))

    assert (report.examined, report.expired) == (2, 2)
    assert seen == [(2, 2)]
    statuses = {o.id: o.status for o in await shop.stored_orders()}
    assert statuses == {
        stale_plain.id: OrderStatus.EXPIRED,
        stale_with_coupon.id: OrderStatus.EXPIRED,
        stale_paid.id: OrderStatus.PAID,
        stale_cancelled.id: OrderStatus.CANCELLED,
        fresh.id: OrderStatus.PENDING,
    }
    expired = await shop.stored_order(stale_plain.id)
    last = expired.history[-1]
    assert (last.from_status, last.to_status, last.actor, last.at) == (
        OrderStatus.PENDING,
        OrderStatus.EXPIRED,
        EXPIRY_ACTOR,
        clock.now(),
    )
    assert (await shop.stored_coupon(coupon.id)).redemptions == 0


async def test_an_order_exactly_as_old_as_its_lifetime_is_not_yet_stale(
    shop: Shop, clock: FakeClock
) -> None:
    order = await shop.pending(ANA)
    clock.advance(PENDING_LIFETIME)
    report = await shop.orders.expire_stale()
    assert (report.examined, report.expired) == (0, 0)
    assert (await shop.stored_order(order.id)).status is OrderStatus.PENDING


async def test_an_expired_order_gives_its_coupon_back_to_the_customer(
    shop: Shop, clock: FakeClock
) -> None:
    plan = await shop.plan(5_000)
    await shop.coupon("ONCE", max_redemptions=1, max_per_customer=1)
    await shop.pending(ANA, plan, coupon_code="ONCE")
    clock.advance(STALE)
    await shop.orders.expire_stale()
    assert (await shop.pending(ANA, plan, coupon_code="ONCE")).discount == pen(500)


async def test_expiry_reports_progress_every_batch_and_at_the_end(
    shop: Shop, clock: FakeClock
) -> None:
    plan = await shop.plan()
    for _ in range(5):
        await shop.pending(ANA, plan)
    clock.advance(STALE)
    seen: list[tuple[int, int]] = []
    report = await shop.orders.expire_stale(
        batch_size=2, progress=lambda done, of: seen.append((done, of))
    )
    assert (report.examined, report.expired) == (5, 5)
    assert seen == [(2, 5), (4, 5), (5, 5)]


async def test_expiry_skips_an_order_paid_while_it_was_running(
    shop: Shop, database: InMemoryDatabase, clock: FakeClock
) -> None:
    first = await shop.pending(ANA)
    second = await shop.pending(LUIS)
    clock.advance(STALE)
    shop.gateway.answer = shop.notification(second)
    async with InMemoryUnitOfWork(database):
        # Another transaction holds the database: the expiry lists both stale orders and
        # queues for the first; the payment of the second queues behind it.
        expiry = asyncio.create_task(shop.orders.expire_stale(batch_size=1))
        await asyncio.sleep(0)
        payment = asyncio.create_task(shop.payments.receive_notification({}))
        await asyncio.sleep(0)
    report = await expiry
    paid = await payment
    assert paid.outcome is NotificationOutcome.APPLIED
    assert (report.examined, report.expired) == (2, 1)
    assert (await shop.stored_order(first.id)).status is OrderStatus.EXPIRED
    assert (await shop.stored_order(second.id)).status is OrderStatus.PAID


async def test_expiry_with_nothing_stale_changes_nothing(shop: Shop) -> None:
    order = await shop.pending(ANA)
    report = await shop.orders.expire_stale()
    assert (report.examined, report.expired) == (0, 0)
    assert await shop.stored_order(order.id) == order
