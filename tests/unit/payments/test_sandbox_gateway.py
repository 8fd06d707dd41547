"""The sandbox gateway: the payment contract, and the pay page's token and completion."""

from __future__ import annotations

import base64
import json
from typing import Any

import attrs
import pytest

from adapters.payments.sandbox import SandboxPayment, SandboxPaymentGateway
from talia_core.shared.clock import FakeClock
from talia_core.shared.errors import Forbidden, Malformed, RuleViolated
from talia_core.shared.money import Money
from tests.contracts.commerce.payment_gateway import (
    REFERENCE,
    TRANSACTION,
    PaymentGatewayContract,
    SignedFields,
    a_refund,
    a_request,
    ipn_fields,
)

SECRET = "sandbox-test-secret-" + "s" * 32
PAY_URL = "http://127.0.0.1:8000/sandbox/pay/"


@pytest.fixture
def sandbox() -> SandboxPaymentGateway:
    return SandboxPaymentGateway(secret=SECRET, pay_url=PAY_URL, clock=FakeClock())


class SandboxPaymentGatewayTests(PaymentGatewayContract):
    @pytest.fixture
    def gateway(self, sandbox: SandboxPaymentGateway) -> SandboxPaymentGateway:
        return sandbox

    @pytest.fixture
    def public_key(self) -> str:
        return "sandbox"

    @pytest.fixture
    def signed_fields(self) -> SignedFields:
        def sign(answer: dict[str, Any] | str) -> dict[str, str]:
            return ipn_fields(answer, SECRET)

        return sign


async def test_a_form_token_opens_to_the_payment_it_was_made_for(
    sandbox: SandboxPaymentGateway,
) -> None:
    form = await sandbox.create_payment(a_request())

    assert sandbox.open(form.form_token) == SandboxPayment(
        order_id="order-1",
        order_reference=REFERENCE,
        amount=Money(15900, "PEN"),
        customer_id="cust-1",
        customer_email="ana@example.com",
    )
    assert sandbox.page_for(form.form_token) == PAY_URL + form.form_token


async def test_another_worker_with_the_same_secret_opens_the_token(
    sandbox: SandboxPaymentGateway,
) -> None:
    form = await sandbox.create_payment(a_request())
    other_worker = SandboxPaymentGateway(secret=SECRET, pay_url=PAY_URL)

    assert other_worker.open(form.form_token).order_reference == REFERENCE


async def test_a_token_of_another_secret_is_refused(sandbox: SandboxPaymentGateway) -> None:
    form = await sandbox.create_payment(a_request())
    stranger = SandboxPaymentGateway(secret="another-secret-" + "x" * 32, pay_url=PAY_URL)

    with pytest.raises(Forbidden):
        stranger.open(form.form_token)


async def test_a_token_with_a_cheaper_amount_written_in_is_refused(
    sandbox: SandboxPaymentGateway,
) -> None:
    body, signature = (await sandbox.create_payment(a_request())).form_token.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload["amount"] = 1
    forged = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()

    with pytest.raises(Forbidden):
        sandbox.open(f"{forged}.{signature}")
    with pytest.raises(Forbidden):
        sandbox.complete(f"{forged}.{signature}", paid=True)


async def test_a_token_with_its_signature_changed_is_refused(
    sandbox: SandboxPaymentGateway,
) -> None:
    token = (await sandbox.create_payment(a_request())).form_token
    flipped = token[:-1] + ("0" if token[-1] != "0" else "1")

    with pytest.raises(Forbidden):
        sandbox.open(flipped)


@pytest.mark.parametrize(
    "garbage", ["", "not a token", "abc", "abc.def", "a.b.c", "é." + "0" * 64, "x" * 5000]
)
def test_garbage_is_not_a_token(sandbox: SandboxPaymentGateway, garbage: str) -> None:
    with pytest.raises(Malformed):
        sandbox.open(garbage)


async def test_a_form_token_is_never_a_valid_notification_hash(
    sandbox: SandboxPaymentGateway,
) -> None:
    body, signature = (await sandbox.create_payment(a_request())).form_token.split(".")
    fields = ipn_fields(body, SECRET)
    fields["kr-hash"] = signature

    with pytest.raises(Forbidden):
        sandbox.read_notification(fields)


async def test_completing_a_payment_gives_the_notification_izipay_would_post(
    sandbox: SandboxPaymentGateway,
) -> None:
    token = (await sandbox.create_payment(a_request())).form_token

    fields = sandbox.complete(token, paid=True)

    assert set(fields) == {
        "kr-answer",
        "kr-hash",
        "kr-hash-algorithm",
        "kr-hash-key",
        "kr-answer-type",
    }
    assert fields["kr-hash"] == ipn_fields(fields["kr-answer"], SECRET)["kr-hash"]
    answer = json.loads(fields["kr-answer"])
    assert answer["_type"] == "V4/Payment"
    assert answer["orderStatus"] == "PAID"
    assert answer["orderDetails"]["orderId"] == REFERENCE
    assert answer["orderDetails"]["metadata"] == {"order_id": "order-1"}
    assert answer["customer"] == {
        "email": "ana@example.com",
        "reference": "cust-1",
        "_type": "V4/Customer/Customer",
    }
    notification = sandbox.read_notification(fields)
    assert notification.paid
    assert notification.provider == "sandbox"
    assert notification.order_reference == REFERENCE
    assert notification.amount == Money(15900, "PEN")
    assert notification.transaction_id == answer["transactions"][0]["uuid"]


async def test_a_payment_completed_unpaid_says_unpaid(sandbox: SandboxPaymentGateway) -> None:
    token = (await sandbox.create_payment(a_request())).form_token

    notification = sandbox.read_notification(sandbox.complete(token, paid=False))

    assert notification.status == "UNPAID"
    assert not notification.paid


async def test_each_completion_is_a_transaction_of_its_own(
    sandbox: SandboxPaymentGateway,
) -> None:
    token = (await sandbox.create_payment(a_request())).form_token

    first = sandbox.read_notification(sandbox.complete(token, paid=False))
    second = sandbox.read_notification(sandbox.complete(token, paid=True))

    assert first.transaction_id != second.transaction_id
    assert first.order_reference == second.order_reference == REFERENCE


async def test_a_payment_for_nothing_is_refused(sandbox: SandboxPaymentGateway) -> None:
    with pytest.raises(RuleViolated):
        await sandbox.create_payment(a_request(amount=0))


async def test_a_sandbox_refund_is_granted_as_a_paid_credit_of_its_own_per_order(
    sandbox: SandboxPaymentGateway,
) -> None:
    first = await sandbox.refund(a_refund())
    other = await sandbox.refund(attrs.evolve(a_refund(), order_reference="TA-000043"))

    assert (first.provider, first.status) == ("sandbox", "PAID")
    assert first.refund_id != other.refund_id
    assert TRANSACTION not in (first.refund_id, other.refund_id)


async def test_a_sandbox_refund_of_no_transaction_is_refused(
    sandbox: SandboxPaymentGateway,
) -> None:
    with pytest.raises(RuleViolated) as refused:
        await sandbox.refund(a_refund(transaction=""))

    assert refused.value.fields == {"transaction_id": "missing"}


def test_a_short_secret_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="16 characters"):
        SandboxPaymentGateway(secret="short", pay_url=PAY_URL)
