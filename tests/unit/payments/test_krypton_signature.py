"""The Krypton signature: whatever the answer, only the exact signed bytes and key verify."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from adapters.payments import krypton
from talia_core.shared.errors import Forbidden
from talia_core.shared.money import Money
from tests.contracts.commerce.payment_gateway import ipn_fields, payment_answer

keys = st.text(min_size=1, max_size=64)
references = st.text(
    st.characters(codec="utf-8", exclude_categories=("C", "Z")), min_size=1, max_size=64
)
uuids = st.text("0123456789abcdef", min_size=32, max_size=32)
amounts = st.integers(min_value=0, max_value=10**12)
currencies = st.sampled_from(["PEN", "USD", "EUR"])
statuses = st.sampled_from(["PAID", "UNPAID", "RUNNING", "PARTIALLY_PAID", "ABANDONED"])
free_text = st.text(st.characters(codec="utf-8"), max_size=200)


@st.composite
def answers(draw: st.DrawFn) -> dict[str, Any]:
    answer = payment_answer(
        reference=draw(references),
        transaction=draw(uuids),
        amount=draw(amounts),
        currency=draw(currencies),
        status=draw(statuses),
    )
    answer["customer"]["billingDetails"] = {"firstName": draw(free_text)}
    return answer


@given(answers(), keys)
def test_any_answer_signed_with_the_key_reads_back_unchanged(
    answer: dict[str, Any], key: str
) -> None:
    fields = krypton.notification_fields(answer, key)

    notification = krypton.read_notification(fields, provider="izipay", key=key)

    tx = answer["transactions"][0]
    assert fields["kr-hash"] == ipn_fields(fields["kr-answer"], key)["kr-hash"]
    assert notification.order_reference == answer["orderDetails"]["orderId"]
    assert notification.transaction_id == tx["uuid"]
    assert notification.status == tx["status"]
    assert notification.amount == Money(tx["amount"], tx["currency"])


@given(answers(), keys, st.data())
def test_any_one_character_changed_in_the_answer_is_refused(
    answer: dict[str, Any], key: str, data: st.DataObject
) -> None:
    fields = krypton.notification_fields(answer, key)
    kr_answer = fields["kr-answer"]
    at = data.draw(st.integers(min_value=0, max_value=len(kr_answer) - 1), label="at")
    char = data.draw(st.characters(codec="utf-8"), label="char")
    assume(char != kr_answer[at])
    fields["kr-answer"] = kr_answer[:at] + char + kr_answer[at + 1 :]

    with pytest.raises(Forbidden):
        krypton.read_notification(fields, provider="izipay", key=key)


@given(answers(), keys, st.data())
def test_any_one_character_changed_in_the_hash_is_refused(
    answer: dict[str, Any], key: str, data: st.DataObject
) -> None:
    fields = krypton.notification_fields(answer, key)
    kr_hash = fields["kr-hash"]
    at = data.draw(st.integers(min_value=0, max_value=len(kr_hash) - 1), label="at")
    char = data.draw(st.characters(), label="char")
    assume(char != kr_hash[at])
    fields["kr-hash"] = kr_hash[:at] + char + kr_hash[at + 1 :]

    with pytest.raises(Forbidden):
        krypton.read_notification(fields, provider="izipay", key=key)


@given(answers(), keys, keys)
def test_an_answer_signed_with_another_key_is_refused(
    answer: dict[str, Any], key: str, other: str
) -> None:
    assume(key != other)
    fields = krypton.notification_fields(answer, other)

    with pytest.raises(Forbidden):
        krypton.read_notification(fields, provider="izipay", key=key)


def test_the_signature_is_the_lowercase_hex_hmac_sha256_of_the_answer() -> None:
    """RFC 4231, test case 2."""
    signature = krypton.sign("what do ya want for nothing?", "Jefe")

    assert signature == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
