"""Refunds: the admin's request moves a paid order to ``refunding`` at once; a job asks the
provider, with no lock held, and the answer makes the order ``refunded`` or ``paid`` again."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from adapters.memory.database import InMemoryDatabase
from adapters.memory.unit_of_work import InMemoryUnitOfWork
from talia_core.commerce.actor import Actor
from talia_core.commerce.order import OrderStatus
from talia_core.commerce.order_service import (
    MAX_REFUND_NOTE,
    REFUND_ACTOR,
    REFUND_JOB,
    OrderService,
)
from talia_core.commerce.payment import PAID, RefundRequest
from talia_core.commerce.payment_journal import NotificationOutcome, PaymentEntry
from talia_core.shared.clock import FakeClock
from talia_core.shared.errors import Conflict, RuleViolated
from talia_core.shared.jobs import JobStatus
from talia_core.shared.money import Money
from talia_core.shared.pagination import PageRequest
from tests.unit.commerce.builders import (
    ADMIN,
    ANA,
    PEN,
    PENDING_LIFETIME,
    FakePaymentGateway,
    Shop,
    pen,
    placed_order,
)
from tests.unit.commerce.conftest import UowFactory


def refunds_in(journal: list[PaymentEntry]) -> list[PaymentEntry]:
    return [entry for entry in journal if entry.outcome is NotificationOutcome.REFUNDED]


async def refund_jobs(database: InMemoryDatabase) -> list[JobStatus]:
    async with InMemoryUnitOfWork(database, read_only=True) as uow:
        page = await uow.jobs.find(PageRequest(limit=100), status=None)
    return [job.status for job in page.items if job.kind == REFUND_JOB]


async def test_the_request_moves_the_order_to_refunding_and_leaves_the_provider_to_a_job(
    shop: Shop, database: InMemoryDatabase, clock: FakeClock
) -> None:
    order = await shop.paid(ANA)

    answered = await shop.orders.refund(ADMIN, order.id, note="changed their mind")

    stored = await shop.stored_order(order.id)
    assert stored == answered
    assert stored.status is OrderStatus.REFUNDING
    last = stored.history[-1]
    assert (last.from_status, last.actor, last.at, last.note) == (
        OrderStatus.PAID,
        ADMIN.id,
        clock.now(),
        "changed their mind",
    )
    assert shop.gateway.refunds == []
    assert await refund_jobs(database) == [JobStatus.PENDING]
    assert "order.refunded" not in [e.name for e in database.committed.outbox]


async def test_starting_a_refund_wakes_the_jobs_so_the_provider_is_asked_at_once(
    shop: Shop, uow: UowFactory, clock: FakeClock, gateway: FakePaymentGateway
) -> None:
    rings: list[str] = []
    orders = OrderService(
        uow,
        clock,
        currency=PEN,
        pending_lifetime=PENDING_LIFETIME,
        gateway=gateway,
        wake=lambda: rings.append("ring"),
    )
    order = await shop.paid(ANA)

    await orders.refund(ADMIN, order.id)

    assert rings == ["ring"]


async def test_the_job_asks_the_provider_once_for_the_paid_transaction_and_total(
    shop: Shop,
) -> None:
    coupon = await shop.coupon(percent_off=10)
    order = await shop.pending(ANA, await shop.plan(5_000), coupon_code=coupon.code)
    await shop.notify(shop.notification(order, transaction="tx-paid"))

    await shop.refunded(order, note="customer changed their mind")

    assert shop.gateway.refunds == [
        RefundRequest(
            order_reference="TA-000001",
            transaction_id="tx-paid",
            amount=pen(4_500),
            comment="customer changed their mind",
        )
    ]


async def test_a_refund_keeps_the_providers_refund_id_in_the_history_and_the_journal(
    shop: Shop, clock: FakeClock, database: InMemoryDatabase
) -> None:
    order = await shop.paid(ANA)
    await shop.orders.refund(ADMIN, order.id)
    clock.advance(timedelta(minutes=3))

    await shop.run_jobs()

    stored = await shop.stored_order(order.id)
    assert stored.status is OrderStatus.REFUNDED
    last = stored.history[-1]
    assert (last.from_status, last.to_status, last.actor, last.at, last.note) == (
        OrderStatus.REFUNDING,
        OrderStatus.REFUNDED,
        ADMIN.id,
        clock.now(),
        "fake refund refund-1",
    )
    [entry] = refunds_in(await shop.journal())
    assert (
        entry.provider,
        entry.order_id,
        entry.order_reference,
        entry.transaction_id,
        entry.status,
        entry.amount,
        entry.received_at,
    ) == ("fake", order.id, order.reference, "refund-1", PAID, pen(5_000), clock.now())
    assert entry.detail == f"refund of {order.payment_reference}"
    assert [e.name for e in database.committed.outbox][-1] == "order.refunded"
    assert await refund_jobs(database) == [JobStatus.DONE]


async def test_asking_again_while_the_refund_runs_answers_the_same_and_starts_nothing_more(
    shop: Shop, database: InMemoryDatabase
) -> None:
    order = await shop.paid(ANA)
    first = await shop.orders.refund(ADMIN, order.id)

    again = await shop.orders.refund(Actor("admin-2", is_admin=True), order.id)

    assert again == first == await shop.stored_order(order.id)
    assert await refund_jobs(database) == [JobStatus.PENDING]
    await shop.run_jobs()
    assert len(shop.gateway.refunds) == 1
    assert (await shop.stored_order(order.id)).status is OrderStatus.REFUNDED


async def test_two_admins_refunding_at_once_start_one_refund(
    shop: Shop, database: InMemoryDatabase
) -> None:
    order = await shop.paid(ANA)
    other_admin = Actor("admin-2", is_admin=True)

    both = await asyncio.gather(
        shop.orders.refund(ADMIN, order.id), shop.orders.refund(other_admin, order.id)
    )
    await shop.run_jobs()

    assert [o.status for o in both] == [OrderStatus.REFUNDING, OrderStatus.REFUNDING]
    assert len(shop.gateway.refunds) == 1
    stored = await shop.stored_order(order.id)
    assert [t.to_status for t in stored.history].count(OrderStatus.REFUNDING) == 1
    assert [t.to_status for t in stored.history].count(OrderStatus.REFUNDED) == 1
    assert len(refunds_in(await shop.journal())) == 1


async def test_a_refunded_order_is_not_refunded_again(shop: Shop) -> None:
    order = await shop.refunded(await shop.paid(ANA))

    with pytest.raises(Conflict):
        await shop.orders.refund(ADMIN, order.id)

    assert await shop.stored_order(order.id) == order
    assert len(shop.gateway.refunds) == 1


async def test_the_longest_note_an_admin_may_write_is_kept_whole_in_the_history(
    shop: Shop,
) -> None:
    order = await shop.paid(ANA)

    stored = await shop.refunded(order, note="n" * MAX_REFUND_NOTE)

    assert stored.history[-1].note == "fake refund refund-1: " + "n" * MAX_REFUND_NOTE
    assert shop.gateway.refunds[0].comment == "n" * MAX_REFUND_NOTE


async def test_a_note_longer_than_the_history_keeps_is_refused_before_anything_changes(
    shop: Shop, database: InMemoryDatabase
) -> None:
    order = await shop.paid(ANA)

    with pytest.raises(RuleViolated) as refused:
        await shop.orders.refund(ADMIN, order.id, note="n" * (MAX_REFUND_NOTE + 1))

    assert refused.value.fields == {"note": "too long"}
    assert await shop.stored_order(order.id) == order
    assert await refund_jobs(database) == []


async def test_a_refusal_makes_the_order_paid_again_with_the_providers_reason(
    shop: Shop, database: InMemoryDatabase, clock: FakeClock
) -> None:
    order = await shop.paid(ANA)
    journal = await shop.journal()
    outbox = list(database.committed.outbox)
    shop.gateway.refuse_refunds("PSP_105")
    await shop.orders.refund(ADMIN, order.id, note="please")

    await shop.run_jobs()

    stored = await shop.stored_order(order.id)
    assert (stored.status, stored.paid_at, stored.payment_reference) == (
        OrderStatus.PAID,
        order.paid_at,
        order.payment_reference,
    )
    last = stored.history[-1]
    assert (last.from_status, last.actor, last.at) == (
        OrderStatus.REFUNDING,
        REFUND_ACTOR,
        clock.now(),
    )
    assert last.note == "refund refused: the provider refused: PSP_105"
    assert await shop.journal() == journal
    assert database.committed.outbox == outbox
    assert await refund_jobs(database) == [JobStatus.DONE]


async def test_an_order_paid_again_after_a_refusal_can_be_refunded_later(shop: Shop) -> None:
    order = await shop.paid(ANA)
    shop.gateway.refuse_refunds()
    await shop.refunded(order)
    shop.gateway.refund_failure = None

    stored = await shop.refunded(order)

    assert stored.status is OrderStatus.REFUNDED
    assert len(refunds_in(await shop.journal())) == 1


async def test_an_unreachable_provider_keeps_the_order_refunding_and_the_job_retries_it(
    shop: Shop, database: InMemoryDatabase, clock: FakeClock
) -> None:
    order = await shop.paid(ANA)
    shop.gateway.fail_refunds()
    await shop.orders.refund(ADMIN, order.id)

    await shop.run_jobs()

    assert (await shop.stored_order(order.id)).status is OrderStatus.REFUNDING
    assert await refund_jobs(database) == [JobStatus.PENDING]
    shop.gateway.refund_failure = None
    clock.advance(timedelta(seconds=1))
    await shop.run_jobs()
    assert (await shop.stored_order(order.id)).status is OrderStatus.REFUNDED
    assert len(shop.gateway.refunds) == 2
    assert len(refunds_in(await shop.journal())) == 1


async def test_a_job_run_twice_refunds_the_order_once(shop: Shop) -> None:
    order = await shop.refunded(await shop.paid(ANA))

    await shop.orders.complete_refund(order.id, actor=ADMIN.id, note=None)

    assert await shop.stored_order(order.id) == order
    assert len(shop.gateway.refunds) == 1
    assert len(refunds_in(await shop.journal())) == 1


async def test_other_writes_to_the_order_do_not_wait_for_the_provider(
    shop: Shop, database: InMemoryDatabase
) -> None:
    order = await shop.paid(ANA)
    shop.gateway.hold_refunds = asyncio.Event()
    await shop.orders.refund(ADMIN, order.id)
    job = asyncio.create_task(shop.run_jobs())
    await asyncio.wait_for(shop.gateway.refund_asked.wait(), timeout=5)

    repeated = await asyncio.wait_for(shop.notify(shop.notification(order)), timeout=5)
    with pytest.raises(Conflict):
        await asyncio.wait_for(shop.orders.fulfil(ADMIN, order.id), timeout=5)

    assert repeated.outcome is NotificationOutcome.DUPLICATE
    assert not job.done()
    shop.gateway.hold_refunds.set()
    await job
    assert (await shop.stored_order(order.id)).status is OrderStatus.REFUNDED


async def test_a_pending_order_is_not_refunded_and_the_provider_is_not_asked(
    shop: Shop, database: InMemoryDatabase
) -> None:
    order = await shop.pending(ANA)

    with pytest.raises(Conflict):
        await shop.orders.refund(ADMIN, order.id)

    assert await shop.stored_order(order.id) == order
    assert await refund_jobs(database) == []


async def test_a_paid_order_without_its_transaction_cannot_be_refunded_through_the_provider(
    shop: Shop, database: InMemoryDatabase, clock: FakeClock
) -> None:
    order = placed_order(clock.now())
    order.pay(transaction="tx-lost", actor="gateway:fake", at=clock.now())
    order.payment_reference = None  # paid before the transaction was kept with its order
    async with InMemoryUnitOfWork(database) as uow:
        await uow.orders.add(order)
        await uow.commit()

    with pytest.raises(RuleViolated) as refused:
        await shop.orders.refund(ADMIN, order.id)

    assert refused.value.fields == {"order_id": "no payment reference"}
    assert (await shop.stored_order(order.id)).status is OrderStatus.PAID
    assert await refund_jobs(database) == []


async def test_a_refund_is_for_the_orders_total_in_its_currency(shop: Shop) -> None:
    order = await shop.paid(ANA, await shop.plan(5_000), await shop.template(3_000))

    await shop.refunded(order)

    assert [r.amount for r in shop.gateway.refunds] == [Money(8_000, "PEN")]
