"""The contract every ``PaymentGateway`` passes: Izipay against a local server, the sandbox,
and the fake the commerce tests use (``tests/unit/commerce/builders.py``).

Subclass ``PaymentGatewayContract`` and provide three fixtures: ``gateway``, ``public_key``
(what its payment forms carry) and ``signed_fields``: a callable that turns a kr-answer (a
dict, or a raw string sent as is) into the IPN form fields signed the way that provider
signs them. Use ``ipn_fields`` to compute them independently of the adapter's own code.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

import pytest

from talia_core.commerce.payment import PaymentRequest, RefundRequest
from talia_core.commerce.ports import PaymentGateway
from talia_core.shared.errors import Forbidden, Malformed, RuleViolated
from talia_core.shared.money import Money

SignedFields = Callable[[dict[str, Any] | str], dict[str, str]]

REFERENCE = "TA-000042"
TRANSACTION = "b4a819d9e4224247b58ccc861321a94a"


def ipn_fields(answer: dict[str, Any] | str, password: str) -> dict[str, str]:
    """The five form fields Izipay posts as an IPN, hashed here exactly as Izipay does."""
    kr_answer = answer if isinstance(answer, str) else json.dumps(answer, ensure_ascii=False)
    return {
        "kr-answer": kr_answer,
        "kr-hash": hmac.new(password.encode(), kr_answer.encode(), hashlib.sha256).hexdigest(),
        "kr-hash-algorithm": "sha256_hmac",
        "kr-hash-key": "password",
        "kr-answer-type": "V4/Payment",
    }


def payment_answer(
    *,
    order_status: str = "PAID",
    status: str | None = "PAID",
    amount: int | None = 15900,
    currency: str = "PEN",
    reference: str = REFERENCE,
    transaction: str = TRANSACTION,
) -> dict[str, Any]:
    """A kr-answer in the Krypton V4/Payment shape (the parts the gateways read, and more)."""
    tx: dict[str, Any] = {
        "shopId": "69876357",
        "uuid": transaction,
        "amount": amount,
        "currency": currency,
        "paymentMethodType": "CARD",
        "detailedStatus": "AUTHORISED",
        "operationType": "DEBIT",
        "_type": "V4/PaymentTransaction",
    }
    if status is not None:
        tx["status"] = status
    return {
        "shopId": "69876357",
        "orderCycle": "CLOSED",
        "orderStatus": order_status,
        "serverDate": "2026-01-01T12:00:00+00:00",
        "orderDetails": {
            "orderTotalAmount": 15900,
            "orderEffectiveAmount": 15900,
            "orderCurrency": "PEN",
            "mode": "TEST",
            "orderId": reference,
            "_type": "V4/OrderDetails",
        },
        "customer": {"email": "ana@example.com", "reference": "cust-1"},
        "transactions": [tx],
        "_type": "V4/Payment",
    }


def a_request(amount: int = 15900) -> PaymentRequest:
    return PaymentRequest(
        order_id="order-1",
        order_reference=REFERENCE,
        amount=Money(amount, "PEN"),
        customer_id="cust-1",
        customer_email="ana@example.com",
    )


def a_refund(
    amount: int = 15900, *, transaction: str = TRANSACTION, comment: str | None = None
) -> RefundRequest:
    return RefundRequest(
        order_reference=REFERENCE,
        transaction_id=transaction,
        amount=Money(amount, "PEN"),
        comment=comment,
    )


class PaymentGatewayContract:
    # --------------------------------------------------------------------- payments

    async def test_a_new_payment_comes_with_a_form_token_and_the_public_key(
        self, gateway: PaymentGateway, public_key: str
    ) -> None:
        form = await gateway.create_payment(a_request())

        assert form.provider == gateway.provider
        assert form.form_token
        assert form.public_key == public_key

    async def test_the_provider_answers_its_health_check(self, gateway: PaymentGateway) -> None:
        await gateway.check()

    # ---------------------------------------------------------------------- refunds

    async def test_a_refund_of_a_paid_transaction_comes_with_a_receipt_of_the_provider(
        self, gateway: PaymentGateway
    ) -> None:
        receipt = await gateway.refund(a_refund(comment="customer changed their mind"))

        assert receipt.provider == gateway.provider
        assert receipt.refund_id
        assert receipt.status

    async def test_a_refund_asked_again_for_the_same_order_answers_the_same_refund(
        self, gateway: PaymentGateway
    ) -> None:
        first = await gateway.refund(a_refund())

        assert await gateway.refund(a_refund()) == first

    async def test_a_refund_without_its_transaction_is_refused(
        self, gateway: PaymentGateway
    ) -> None:
        with pytest.raises(RuleViolated):
            await gateway.refund(a_refund(transaction=""))

    async def test_a_refund_of_nothing_is_refused(self, gateway: PaymentGateway) -> None:
        with pytest.raises(RuleViolated):
            await gateway.refund(a_refund(0))

    # ---------------------------------------------------------- reading notifications

    def test_a_correctly_signed_paid_notification_reads_back_what_the_provider_said(
        self, gateway: PaymentGateway, signed_fields: SignedFields
    ) -> None:
        notification = gateway.read_notification(signed_fields(payment_answer()))

        assert notification.provider == gateway.provider
        assert notification.order_reference == REFERENCE
        assert notification.transaction_id == TRANSACTION
        assert notification.status == "PAID"
        assert notification.paid
        assert notification.amount == Money(15900, "PEN")

    def test_an_unpaid_notification_is_read_but_is_not_a_payment(
        self, gateway: PaymentGateway, signed_fields: SignedFields
    ) -> None:
        answer = payment_answer(order_status="UNPAID", status="UNPAID")

        notification = gateway.read_notification(signed_fields(answer))

        assert notification.status == "UNPAID"
        assert not notification.paid

    def test_the_transaction_status_speaks_before_the_order_status(
        self, gateway: PaymentGateway, signed_fields: SignedFields
    ) -> None:
        answer = payment_answer(order_status="PAID", status="UNPAID")

        assert gateway.read_notification(signed_fields(answer)).status == "UNPAID"

    def test_without_a_transaction_status_the_order_status_is_read(
        self, gateway: PaymentGateway, signed_fields: SignedFields
    ) -> None:
        answer = payment_answer(order_status="RUNNING", status=None)

        assert gateway.read_notification(signed_fields(answer)).status == "RUNNING"

    def test_the_amount_is_the_transactions_and_else_the_order_total(
        self, gateway: PaymentGateway, signed_fields: SignedFields
    ) -> None:
        charged = payment_answer(amount=100, currency="USD")
        without_amount = payment_answer(amount=None)

        assert gateway.read_notification(signed_fields(charged)).amount == Money(100, "USD")
        assert gateway.read_notification(signed_fields(without_amount)).amount == Money(
            15900, "PEN"
        )

    def test_an_answer_with_accents_verifies_over_its_utf8_bytes(
        self, gateway: PaymentGateway, signed_fields: SignedFields
    ) -> None:
        answer = payment_answer()
        answer["customer"]["billingDetails"] = {"firstName": "Peña", "city": "Cañete ✓"}

        assert gateway.read_notification(signed_fields(answer)).order_reference == REFERENCE

    # ------------------------------------------------------------------- refusals

    def test_a_wrong_hash_is_refused(
        self, gateway: PaymentGateway, signed_fields: SignedFields
    ) -> None:
        fields = signed_fields(payment_answer())
        fields["kr-hash"] = "0" * 64

        with pytest.raises(Forbidden):
            gateway.read_notification(fields)

    @pytest.mark.parametrize("bad_hash", ["", "not-hex", "ABCDEF" * 10 + "ABCD", "0" * 63])
    def test_a_hash_that_is_not_a_lowercase_hex_digest_is_refused(
        self, gateway: PaymentGateway, signed_fields: SignedFields, bad_hash: str
    ) -> None:
        fields = signed_fields(payment_answer())
        fields["kr-hash"] = bad_hash

        with pytest.raises(Forbidden):
            gateway.read_notification(fields)

    def test_a_hash_over_another_answer_is_refused(
        self, gateway: PaymentGateway, signed_fields: SignedFields
    ) -> None:
        cheap = signed_fields(payment_answer(amount=1))
        fields = signed_fields(payment_answer())
        fields["kr-hash"] = cheap["kr-hash"]

        with pytest.raises(Forbidden):
            gateway.read_notification(fields)

    def test_an_answer_reserialised_after_signing_is_refused(
        self, gateway: PaymentGateway, signed_fields: SignedFields
    ) -> None:
        fields = signed_fields(payment_answer())
        fields["kr-answer"] = json.dumps(json.loads(fields["kr-answer"]), indent=1)

        with pytest.raises(Forbidden):
            gateway.read_notification(fields)

    def test_the_browser_return_copy_is_not_believed(
        self, gateway: PaymentGateway, signed_fields: SignedFields
    ) -> None:
        fields = signed_fields(payment_answer())
        fields["kr-hash-key"] = "sha256_hmac"

        with pytest.raises(Forbidden):
            gateway.read_notification(fields)

    def test_another_hash_algorithm_is_refused(
        self, gateway: PaymentGateway, signed_fields: SignedFields
    ) -> None:
        fields = signed_fields(payment_answer())
        fields["kr-hash-algorithm"] = "sha1"

        with pytest.raises(Forbidden):
            gateway.read_notification(fields)

    @pytest.mark.parametrize(
        ("missing", "error"),
        [
            ("kr-answer", Malformed),
            ("kr-hash", Forbidden),
            ("kr-hash-algorithm", Forbidden),
            ("kr-hash-key", Forbidden),
            ("kr-answer-type", Malformed),
        ],
    )
    def test_a_notification_missing_a_field_is_refused(
        self,
        gateway: PaymentGateway,
        signed_fields: SignedFields,
        missing: str,
        error: type[Exception],
    ) -> None:
        fields = signed_fields(payment_answer())
        del fields[missing]

        with pytest.raises(error):
            gateway.read_notification(fields)

    @pytest.mark.parametrize(
        "kr_answer", ["{not json", "[1, 2]", '"PAID"', "[" * 50_000 + "]" * 50_000]
    )
    def test_a_correctly_signed_answer_that_is_not_a_json_object_is_malformed(
        self, gateway: PaymentGateway, signed_fields: SignedFields, kr_answer: str
    ) -> None:
        with pytest.raises(Malformed):
            gateway.read_notification(signed_fields(kr_answer))

    @pytest.mark.parametrize(
        ("spoil", "named"),
        [
            (lambda a: a["orderDetails"].pop("orderId"), "orderId"),
            (lambda a: a["orderDetails"].update(orderId=None), "orderId"),
            (lambda a: a["orderDetails"].update(orderId="x" * 65), "orderId"),
            (lambda a: a.pop("orderDetails"), "orderDetails"),
            (lambda a: a.update(transactions=[]), "transactions"),
            (lambda a: a["transactions"][0].pop("uuid"), "uuid"),
            (lambda a: a["transactions"][0].update(status="paid!"), "status"),
            (lambda a: (a["transactions"][0].pop("status"), a.pop("orderStatus")), "status"),
            (lambda a: a["transactions"][0].update(amount="159.00"), "amount"),
            (lambda a: a["transactions"][0].update(amount=159.0), "amount"),
            (lambda a: a["transactions"][0].update(amount=True), "amount"),
            (lambda a: a["transactions"][0].update(amount=-1), "amount"),
            (lambda a: a["transactions"][0].update(currency="soles"), "currency"),
            (lambda a: a["transactions"][0].pop("currency"), "currency"),
        ],
    )
    def test_a_correctly_signed_answer_without_a_readable_payment_is_malformed(
        self,
        gateway: PaymentGateway,
        signed_fields: SignedFields,
        spoil: Callable[[dict[str, Any]], object],
        named: str,
    ) -> None:
        answer = payment_answer()
        spoil(answer)

        with pytest.raises(Malformed, match=named):
            gateway.read_notification(signed_fields(answer))
