"""Refunds: an admin gives a paid order's money back through the provider, once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from adapters.memory.database import InMemoryDatabase
from adapters.memory.unit_of_work import InMemoryUnitOfWork
from talia_core.commerce.actor import Actor
from talia_core.commerce.order import OrderStatus
from talia_core.commerce.order_service import MAX_REFUND_NOTE
from talia_core.commerce.payment import PAID, RefundRequest
from talia_core.commerce.payment_journal import NotificationOutcome, PaymentEntry
from talia_core.shared.clock import FakeClock
from talia_core.shared.errors import Conflict, ExternalServiceUnavailable, RuleViolated
from talia_core.shared.money import Money
from tests.unit.commerce.builders import ADMIN, ANA, Shop, pen, placed_order


def refunds_in(journal: list[PaymentEntry]) -> list[PaymentEntry]:
    return [entry for entry in journal if entry.outcome is NotificationOutcome.REFUNDED]


async def test_a_refund_asks_the_provider_once_for_the_paid_transaction_and_total(
    shop: Shop,
) -> None:
    coupon = await shop.coupon(percent_off=10)
    order = await shop.pending(ANA, await shop.plan(5_000), coupon_code=coupon.code)
    await shop.notify(shop.notification(order, transaction="tx-paid"))

    await shop.orders.refund(ADMIN, order.id, note="customer changed their mind")

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
    clock.advance(timedelta(days=3))

    refunded = await shop.orders.refund(ADMIN, order.id)

    stored = await shop.stored_order(order.id)
    assert stored == refunded
    assert stored.status is OrderStatus.REFUNDED
    last = stored.history[-1]
    assert (last.from_status, last.to_status, last.actor, last.at, last.note) == (
        OrderStatus.PAID,
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


async def test_the_longest_note_an_admin_may_write_is_kept_whole_in_the_history(
    shop: Shop,
) -> None:
    order = await shop.paid(ANA)

    await shop.orders.refund(ADMIN, order.id, note="n" * MAX_REFUND_NOTE)

    note = (await shop.stored_order(order.id)).history[-1].note
    assert note == "fake refund refund-1: " + "n" * MAX_REFUND_NOTE
    assert shop.gateway.refunds[0].comment == "n" * MAX_REFUND_NOTE


async def test_a_note_longer_than_the_history_keeps_is_refused_before_the_provider_is_asked(
    shop: Shop,
) -> None:
    order = await shop.paid(ANA)

    with pytest.raises(RuleViolated) as refused:
        await shop.orders.refund(ADMIN, order.id, note="n" * (MAX_REFUND_NOTE + 1))

    assert refused.value.fields == {"note": "too long"}
    assert shop.gateway.refunds == []
    assert (await shop.stored_order(order.id)).status is OrderStatus.PAID


@pytest.mark.parametrize("provider", ["refusing", "unreachable"])
async def test_a_refused_or_unreachable_provider_leaves_the_order_paid_and_the_journal_as_it_was(
    shop: Shop, database: InMemoryDatabase, provider: str
) -> None:
    order = await shop.paid(ANA)
    journal = await shop.journal()
    outbox = list(database.committed.outbox)
    if provider == "refusing":
        shop.gateway.refuse_refunds("PSP_104")
        expected: type[Exception] = RuleViolated
    else:
        shop.gateway.fail_refunds()
        expected = ExternalServiceUnavailable

    with pytest.raises(expected):
        await shop.orders.refund(ADMIN, order.id, note="please")

    assert len(shop.gateway.refunds) == 1
    assert await shop.stored_order(order.id) == order
    assert await shop.journal() == journal
    assert database.committed.outbox == outbox


async def test_a_refused_refund_names_the_providers_code(shop: Shop) -> None:
    order = await shop.paid(ANA)
    shop.gateway.refuse_refunds("PSP_105")

    with pytest.raises(RuleViolated) as refused:
        await shop.orders.refund(ADMIN, order.id)

    assert refused.value.fields == {"payment": "PSP_105"}


async def test_a_refund_that_failed_can_be_asked_again_once_the_provider_answers(
    shop: Shop,
) -> None:
    order = await shop.paid(ANA)
    shop.gateway.fail_refunds()
    with pytest.raises(ExternalServiceUnavailable):
        await shop.orders.refund(ADMIN, order.id)
    shop.gateway.refund_failure = None

    await shop.orders.refund(ADMIN, order.id)

    assert (await shop.stored_order(order.id)).status is OrderStatus.REFUNDED
    assert len(refunds_in(await shop.journal())) == 1


async def test_a_pending_order_is_not_refunded_and_the_provider_is_not_asked(shop: Shop) -> None:
    order = await shop.pending(ANA)

    with pytest.raises(Conflict):
        await shop.orders.refund(ADMIN, order.id)

    assert shop.gateway.refunds == []
    assert await shop.stored_order(order.id) == order
    assert refunds_in(await shop.journal()) == []


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
    assert shop.gateway.refunds == []
    assert (await shop.stored_order(order.id)).status is OrderStatus.PAID


async def test_two_admins_refunding_at_once_refund_the_order_once(shop: Shop) -> None:
    order = await shop.paid(ANA)
    other_admin = Actor("admin-2", is_admin=True)

    results = await asyncio.gather(
        shop.orders.refund(ADMIN, order.id),
        shop.orders.refund(other_admin, order.id),
        return_exceptions=True,
    )

    refunded = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(refunded) == 1
    assert [type(r) for r in refused] == [Conflict]
    assert len(shop.gateway.refunds) == 1
    stored = await shop.stored_order(order.id)
    assert stored.status is OrderStatus.REFUNDED
    assert [t.to_status for t in stored.history].count(OrderStatus.REFUNDED) == 1
    assert len(refunds_in(await shop.journal())) == 1


async def test_a_refund_is_for_the_orders_total_in_its_currency(shop: Shop) -> None:
    order = await shop.paid(ANA, await shop.plan(5_000), await shop.template(3_000))

    await shop.orders.refund(ADMIN, order.id)

    assert [r.amount for r in shop.gateway.refunds] == [Money(8_000, "PEN")]
