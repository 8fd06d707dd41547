"""Lengths commerce states as rules: over-long values are refused, never cut, except a
refused notification's reason, which is only kept for an admin's eye."""

from __future__ import annotations

import attrs
import pytest

from adapters.payments import krypton
from talia_core.commerce.order import MAX_NOTE, MAX_REVIEW_REASON, OrderStatus, OrderTransition
from talia_core.commerce.payment import (
    MAX_ORDER_REFERENCE,
    MAX_PROVIDER,
    MAX_STATUS,
    MAX_TRANSACTION_ID,
    PAID,
    PaymentNotification,
    RefundReceipt,
)
from talia_core.commerce.payment_journal import (
    MAX_REJECTION_DETAIL,
    NotificationOutcome,
    PaymentEntry,
)
from talia_core.shared.clock import FakeClock
from talia_core.shared.errors import Malformed, RuleViolated
from tests.shop import answer
from tests.unit.commerce.builders import ANA, FakePaymentGateway, Shop, pen, placed_order


def test_a_review_reason_at_the_limit_is_kept_whole(clock: FakeClock) -> None:
    order = placed_order(clock.now())
    order.flag_for_review("r" * MAX_REVIEW_REASON, at=clock.now())
    assert order.review_reason == "r" * MAX_REVIEW_REASON


def test_a_review_reason_over_the_limit_is_refused_and_the_order_kept(clock: FakeClock) -> None:
    order = placed_order(clock.now())
    before = attrs.evolve(order)
    with pytest.raises(RuleViolated) as refused:
        order.flag_for_review("r" * (MAX_REVIEW_REASON + 1), at=clock.now())
    assert refused.value.fields == {"review_reason": "too long"}
    assert order == before


def test_a_history_note_over_the_limit_is_refused(clock: FakeClock) -> None:
    def step(note: str) -> OrderTransition:
        return OrderTransition(
            "o-1", OrderStatus.PAID, OrderStatus.REFUNDED, clock.now(), "a", note
        )

    assert step("n" * MAX_NOTE).note == "n" * MAX_NOTE
    with pytest.raises(RuleViolated) as refused:
        step("n" * (MAX_NOTE + 1))
    assert refused.value.fields == {"note": "too long"}


NOTIFICATION = {
    "provider": "izipay",
    "order_reference": "TA-000001",
    "transaction_id": "tx-1",
    "status": PAID,
}
LIMITS = {
    "provider": MAX_PROVIDER,
    "order_reference": MAX_ORDER_REFERENCE,
    "transaction_id": MAX_TRANSACTION_ID,
    "status": MAX_STATUS,
}


@pytest.mark.parametrize("field", list(LIMITS))
def test_a_notification_with_a_value_over_its_limit_cannot_be_read(field: str) -> None:
    at_limit = {**NOTIFICATION, field: "x" * LIMITS[field]}
    assert getattr(PaymentNotification(**at_limit, amount=pen(5_000)), field) == "x" * LIMITS[field]
    with pytest.raises(Malformed, match=field):
        PaymentNotification(**{**NOTIFICATION, field: "x" * (LIMITS[field] + 1)}, amount=pen(1))


@pytest.mark.parametrize(
    ("field", "limit"),
    [("provider", MAX_PROVIDER), ("refund_id", MAX_TRANSACTION_ID), ("status", MAX_STATUS)],
)
def test_a_refund_receipt_with_a_value_over_its_limit_cannot_be_read(
    field: str, limit: int
) -> None:
    fields = {"provider": "izipay", "refund_id": "r-1", "status": PAID}
    with pytest.raises(Malformed, match=field):
        RefundReceipt(**{**fields, field: "x" * (limit + 1)})


@pytest.mark.parametrize(
    ("reference", "transaction"),
    [("TA-" + "9" * MAX_ORDER_REFERENCE, "tx-1"), ("TA-000001", "t" * (MAX_TRANSACTION_ID + 1))],
    ids=["order-reference", "transaction-id"],
)
async def test_a_signed_notification_with_an_over_long_field_is_refused_and_journaled(
    shop: Shop, clock: FakeClock, reference: str, transaction: str
) -> None:
    order = await shop.pending(ANA)
    fields = krypton.notification_fields(
        answer(reference, 5_000, transaction=transaction), FakePaymentGateway.secret
    )

    with pytest.raises(Malformed):
        await shop.payments.receive_notification(fields)

    assert await shop.stored_order(order.id) == order
    [entry] = await shop.journal()
    assert (entry.outcome, entry.received_at, entry.order_id) == (
        NotificationOutcome.REJECTED,
        clock.now(),
        None,
    )


def test_a_rejection_keeps_its_reason_shortened_on_purpose(clock: FakeClock) -> None:
    reason = "kr-answer is not JSON: " + "x" * MAX_REJECTION_DETAIL
    entry = PaymentEntry.rejection("izipay", reason, at=clock.now())
    assert entry.detail == reason[:MAX_REJECTION_DETAIL]
    assert entry.outcome is NotificationOutcome.REJECTED
