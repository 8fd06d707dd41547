"""Payments: opened for a pending order, applied once from the provider's notification."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from adapters.memory.database import InMemoryDatabase
from talia_core.commerce.order import OrderStatus
from talia_core.commerce.payment import PaymentForm, PaymentRequest
from talia_core.commerce.payment_journal import NotificationOutcome
from talia_core.commerce.payment_service import PaymentMismatch
from talia_core.shared.clock import FakeClock
from talia_core.shared.errors import Forbidden, Malformed, NotFound, RuleViolated
from talia_core.shared.money import Money
from talia_core.shared.pagination import PageRequest
from tests.unit.commerce.builders import ADMIN, ANA, LUIS, Shop, pen

# ---------------------------------------------------------------------- opening a payment


async def test_a_customer_opens_a_payment_for_their_pending_order(shop: Shop) -> None:
    coupon = await shop.coupon(percent_off=10)
    order = await shop.pending(ANA, await shop.plan(5_000), coupon_code=coupon.code)
    form = await shop.payments.start_payment(ANA, order.id)
    assert form == PaymentForm("fake", "form-TA-000001", "public-key")
    assert shop.gateway.requests == [
        PaymentRequest(
            order_id=order.id,
            order_reference="TA-000001",
            amount=pen(4_500),
            customer_id=ANA.id,
            customer_email=ANA.email,
        )
    ]


async def test_an_admin_opening_a_payment_does_not_pass_on_their_own_email(shop: Shop) -> None:
    order = await shop.pending(ANA)
    await shop.payments.start_payment(ADMIN, order.id)
    assert [(r.customer_id, r.customer_email) for r in shop.gateway.requests] == [(ANA.id, None)]


async def test_nobody_opens_a_payment_for_another_customers_order(shop: Shop) -> None:
    order = await shop.pending(ANA)
    with pytest.raises(NotFound):
        await shop.payments.start_payment(LUIS, order.id)
    with pytest.raises(NotFound):
        await shop.payments.start_payment(ANA, "no-such-order")
    assert shop.gateway.requests == []


@pytest.mark.parametrize(
    "status", [s for s in OrderStatus if s is not OrderStatus.PENDING], ids=str
)
async def test_only_a_pending_order_is_paid(shop: Shop, status: OrderStatus) -> None:
    order = await shop.in_status(status)
    with pytest.raises(RuleViolated) as refused:
        await shop.payments.start_payment(ANA, order.id)
    assert refused.value.fields == {"order_id": status.value}
    assert shop.gateway.requests == []


# ---------------------------------------------------------------------- the notification


async def test_a_paid_notification_pays_the_order(
    shop: Shop, clock: FakeClock, database: InMemoryDatabase
) -> None:
    order = await shop.pending(ANA, await shop.plan(5_000))
    clock.advance(timedelta(minutes=4))
    result = await shop.notify(shop.notification(order, transaction="tx-1"))
    assert (result.outcome, result.order_id) == (NotificationOutcome.APPLIED, order.id)
    stored = await shop.stored_order(order.id)
    assert (stored.status, stored.paid_at, stored.payment_reference) == (
        OrderStatus.PAID,
        clock.now(),
        "tx-1",
    )
    assert stored.review_reason is None
    [event] = database.committed.outbox
    assert (event.name, event.occurred_at) == ("order.paid", clock.now())
    assert event.data == {
        "order_id": order.id,
        "number": 1,
        "reference": "TA-000001",
        "customer_id": ANA.id,
        "total": {"amount": 5_000, "currency": "PEN"},
        "items": [{"kind": "plan", "product_id": order.items[0].product_id, "quantity": 1}],
    }
    [entry] = await shop.journal()
    assert (entry.outcome, entry.order_id, entry.transaction_id, entry.status) == (
        NotificationOutcome.APPLIED,
        order.id,
        "tx-1",
        "PAID",
    )
    assert (entry.provider, entry.amount, entry.received_at) == ("fake", pen(5_000), clock.now())


async def test_the_same_notification_twice_is_applied_once(
    shop: Shop, clock: FakeClock, database: InMemoryDatabase
) -> None:
    order = await shop.pending(ANA)
    notification = shop.notification(order, transaction="tx-1")
    await shop.notify(notification)
    paid = await shop.stored_order(order.id)
    clock.advance(timedelta(minutes=1))
    again = await shop.notify(notification)
    assert (again.outcome, again.order_id) == (NotificationOutcome.DUPLICATE, order.id)
    assert await shop.stored_order(order.id) == paid
    assert len(database.committed.outbox) == 1
    assert len(await shop.journal()) == 1


async def test_concurrent_deliveries_of_one_notification_apply_it_once(
    shop: Shop, database: InMemoryDatabase
) -> None:
    order = await shop.pending(ANA)
    shop.gateway.answer = shop.notification(order, transaction="tx-1")
    results = await asyncio.gather(
        *(shop.payments.receive_notification({"delivery": str(n)}) for n in range(5))
    )
    assert sorted(r.outcome for r in results) == sorted(
        [NotificationOutcome.APPLIED] + [NotificationOutcome.DUPLICATE] * 4
    )
    assert [e.name for e in database.committed.outbox] == ["order.paid"]
    stored = await shop.stored_order(order.id)
    assert [t.to_status for t in stored.history] == [OrderStatus.PENDING, OrderStatus.PAID]


@pytest.mark.parametrize(
    ("amount", "detail"),
    [
        (pen(4_999), "amount 4999 is not the order's 5000"),
        (pen(50_000), "amount 50000 is not the order's 5000"),
        (Money(5_000, "USD"), "currency USD is not the order's PEN"),
    ],
    ids=["too little", "too much", "other currency"],
)
async def test_a_notification_that_does_not_fit_its_order_is_kept_for_review(
    shop: Shop, database: InMemoryDatabase, amount: Money, detail: str
) -> None:
    order = await shop.pending(ANA, await shop.plan(5_000))
    with pytest.raises(PaymentMismatch) as refused:
        await shop.notify(shop.notification(order, amount=amount))
    assert detail in refused.value.detail
    stored = await shop.stored_order(order.id)
    assert stored.status is OrderStatus.PENDING
    assert (stored.paid_at, stored.payment_reference) == (None, None)
    assert stored.review_reason == detail
    assert database.committed.outbox == []
    [entry] = await shop.journal()
    assert (entry.outcome, entry.order_id, entry.detail) == (
        NotificationOutcome.MISMATCH,
        order.id,
        detail,
    )


async def test_a_mismatched_order_can_still_be_paid_in_full_and_keeps_its_first_reason(
    shop: Shop,
) -> None:
    order = await shop.pending(ANA, await shop.plan(5_000))
    for n, amount in enumerate((1, 2)):
        with pytest.raises(PaymentMismatch):
            await shop.notify(shop.notification(order, transaction=f"tx-{n}", amount=pen(amount)))
    result = await shop.notify(shop.notification(order, transaction="tx-good"))
    assert result.outcome is NotificationOutcome.APPLIED
    stored = await shop.stored_order(order.id)
    assert stored.status is OrderStatus.PAID
    assert stored.review_reason == "amount 1 is not the order's 5000"


UNKNOWN_REFERENCES = {
    "no such number": "TA-000999",
    "twelve digits": "TA-999999999999",
    "other prefix": "XX-000001",
    "letters": "TA-abc",
    "no number": "TA-",
    "empty": "",
    "no prefix": "000001",
    # str.isdigit() holds for these, yet they are not our references:
    "superscript two": "TA-\u00b2",  # int() cannot read it
    "full-width digits": "TA-\uff10\uff10\uff10\uff10\uff10\uff11",  # int() reads 1
}


@pytest.mark.parametrize("reference", UNKNOWN_REFERENCES.values(), ids=UNKNOWN_REFERENCES.keys())
async def test_a_notification_for_an_order_that_does_not_exist_is_a_mismatch(
    shop: Shop, database: InMemoryDatabase, reference: str
) -> None:
    order = await shop.pending(ANA)
    with pytest.raises(PaymentMismatch):
        await shop.notify(shop.notification(order, reference=reference))
    assert await shop.stored_order(order.id) == order
    assert database.committed.outbox == []
    [entry] = await shop.journal()
    assert (entry.outcome, entry.order_id, entry.order_reference) == (
        NotificationOutcome.MISMATCH,
        None,
        reference,
    )


async def test_an_unpaid_notification_is_recorded_and_changes_no_order(
    shop: Shop, database: InMemoryDatabase
) -> None:
    order = await shop.pending(ANA)
    result = await shop.notify(shop.notification(order, status="UNPAID"))
    assert (result.outcome, result.order_id) == (NotificationOutcome.RECORDED, order.id)
    assert await shop.stored_order(order.id) == order
    assert database.committed.outbox == []
    [entry] = await shop.journal()
    assert (entry.outcome, entry.status, entry.detail) == (
        NotificationOutcome.RECORDED,
        "UNPAID",
        "status UNPAID",
    )


async def test_a_refused_attempt_then_a_paid_one_of_the_same_transaction_pays(
    shop: Shop,
) -> None:
    order = await shop.pending(ANA)
    await shop.notify(shop.notification(order, transaction="tx-1", status="UNPAID"))
    result = await shop.notify(shop.notification(order, transaction="tx-1"))
    assert result.outcome is NotificationOutcome.APPLIED
    assert (await shop.stored_order(order.id)).status is OrderStatus.PAID
    assert len(await shop.journal()) == 2


@pytest.mark.parametrize("status", [OrderStatus.CANCELLED, OrderStatus.EXPIRED], ids=str)
async def test_a_payment_for_a_dead_order_is_kept_for_review(
    shop: Shop, database: InMemoryDatabase, status: OrderStatus
) -> None:
    order = await shop.in_status(status)
    result = await shop.notify(shop.notification(order, transaction="tx-late"))
    assert (result.outcome, result.order_id) == (NotificationOutcome.REVIEW, order.id)
    stored = await shop.stored_order(order.id)
    assert (stored.status, stored.paid_at) == (status, None)
    assert stored.review_reason == f"paid by tx-late while {status.value}"
    assert database.committed.outbox == []
    assert [e.outcome for e in await shop.journal()] == [NotificationOutcome.REVIEW]


async def test_a_second_payment_of_a_paid_order_is_kept_for_review(shop: Shop) -> None:
    order = await shop.paid(ANA)
    result = await shop.notify(shop.notification(order, transaction="tx-second"))
    assert result.outcome is NotificationOutcome.REVIEW
    stored = await shop.stored_order(order.id)
    assert (stored.status, stored.payment_reference) == (OrderStatus.PAID, order.payment_reference)
    assert stored.review_reason == (
        f"paid by tx-second while paid (paid by {order.payment_reference})"
    )


@pytest.mark.parametrize(
    "refusal",
    [Forbidden("the signature does not match"), Malformed("kr-answer is not JSON")],
    ids=["forged", "unreadable"],
)
async def test_a_forged_or_unreadable_notification_is_refused_and_journaled(
    shop: Shop, clock: FakeClock, refusal: Forbidden | Malformed
) -> None:
    order = await shop.pending(ANA)
    shop.gateway.answer = refusal
    with pytest.raises(type(refusal)):
        await shop.payments.receive_notification({"kr-answer": "garbage"})
    assert await shop.stored_order(order.id) == order
    [entry] = await shop.journal()
    assert (entry.provider, entry.outcome, entry.detail, entry.received_at) == (
        "fake",
        NotificationOutcome.REJECTED,
        refusal.detail,
        clock.now(),
    )
    assert (entry.order_id, entry.transaction_id) == (None, None)


async def test_every_rejection_is_journaled_even_when_they_look_alike(shop: Shop) -> None:
    shop.gateway.answer = Forbidden("bad signature")
    for _ in range(3):
        with pytest.raises(Forbidden):
            await shop.payments.receive_notification({})
    assert [e.outcome for e in await shop.journal()] == [NotificationOutcome.REJECTED] * 3


# ------------------------------------------------------------------------------- journal


async def test_only_an_admin_reads_the_payment_journal(shop: Shop) -> None:
    with pytest.raises(Forbidden):
        await shop.payments.journal(ANA, PageRequest())


async def test_the_journal_is_read_per_order(shop: Shop) -> None:
    anas, luiss = await shop.pending(ANA), await shop.pending(LUIS)
    await shop.notify(shop.notification(anas, status="UNPAID"))
    await shop.notify(shop.notification(anas))
    await shop.notify(shop.notification(luiss))
    page = await shop.payments.journal(ADMIN, PageRequest(), order_id=anas.id)
    assert page.total == 2
    assert {(e.order_id, e.status) for e in page.items} == {(anas.id, "UNPAID"), (anas.id, "PAID")}


async def test_the_service_names_and_checks_its_gateway(shop: Shop) -> None:
    await shop.payments.check_gateway()
    assert shop.payments.provider == "fake"
