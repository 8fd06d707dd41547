"""The Izipay gateway against a local HTTP server speaking Izipay's REST V4 format
(``izipay_server.FakeIzipay``, a ``tests.fakeserver.LocalServer`` on 127.0.0.1)."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import attrs
import httpx
import pytest

from adapters.payments.izipay import IzipayPaymentGateway
from adapters.resilience import HyxResilienceRunner, resilient
from talia_core.commerce.payment import RefundReceipt
from talia_core.resilience.model import (
    BreakerPolicy,
    BulkheadPolicy,
    ResiliencePolicy,
    RetryPolicy,
)
from talia_core.shared.errors import ExternalServiceUnavailable, RuleViolated
from tests.contracts.commerce.payment_gateway import (
    REFERENCE,
    TRANSACTION,
    PaymentGatewayContract,
    SignedFields,
    a_refund,
    a_request,
    ipn_fields,
)
from tests.fakeserver import Reply, refusing_port
from tests.integration.payments.izipay_server import (
    CANCEL_OR_REFUND,
    CREATE_PAYMENT,
    CREDIT,
    ORDER_GET,
    PASSWORD,
    PUBLIC_KEY,
    SDK_TEST,
    SHOP_ID,
    FakeIzipay,
    envelope,
    fake_izipay,
    transaction,
)


@pytest.fixture
async def izipay() -> AsyncIterator[FakeIzipay]:
    async with fake_izipay() as server:
        yield server


@pytest.fixture
async def base_url(izipay: FakeIzipay) -> str:
    return await izipay.start()


def gateway_at(client: httpx.AsyncClient, base_url: str, **overrides: str) -> IzipayPaymentGateway:
    settings = {"shop_id": SHOP_ID, "password": PASSWORD, "public_key": PUBLIC_KEY} | overrides
    return IzipayPaymentGateway(client, base_url=base_url, **settings)


@pytest.fixture
def izipay_gateway(client: httpx.AsyncClient, base_url: str) -> IzipayPaymentGateway:
    return gateway_at(client, base_url)


class IzipayPaymentGatewayTests(PaymentGatewayContract):
    @pytest.fixture
    def gateway(self, izipay_gateway: IzipayPaymentGateway) -> IzipayPaymentGateway:
        return izipay_gateway

    @pytest.fixture
    def public_key(self) -> str:
        return PUBLIC_KEY

    @pytest.fixture
    def signed_fields(self) -> SignedFields:
        def sign(answer: dict[str, Any] | str) -> dict[str, str]:
            return ipn_fields(answer, PASSWORD)

        return sign


# ------------------------------------------------------------------------ CreatePayment


async def test_a_payment_is_created_with_basic_auth_and_the_order_in_minor_units(
    izipay: FakeIzipay, izipay_gateway: IzipayPaymentGateway
) -> None:
    form = await izipay_gateway.create_payment(a_request(15900))

    [request] = izipay.requests
    assert (request.method, request.path) == ("POST", CREATE_PAYMENT)
    expected = base64.b64encode(f"{SHOP_ID}:{PASSWORD}".encode()).decode()
    assert request.headers["authorization"] == f"Basic {expected}"
    assert request.headers["content-type"] == "application/json"
    assert request.json() == {
        "amount": 15900,
        "currency": "PEN",
        "orderId": REFERENCE,
        "customer": {"email": "ana@example.com", "reference": "cust-1"},
        "metadata": {"order_id": "order-1"},
    }
    assert form.provider == "izipay"
    assert form.form_token.startswith("01")
    assert form.public_key == PUBLIC_KEY


async def test_the_ipn_url_is_sent_when_configured(
    izipay: FakeIzipay, client: httpx.AsyncClient, base_url: str
) -> None:
    gateway = gateway_at(client, base_url + "/", ipn_url="https://shop.example/ipn")

    await gateway.create_payment(a_request())

    [request] = izipay.requests
    assert request.path == CREATE_PAYMENT
    assert request.json()["ipnTargetUrl"] == "https://shop.example/ipn"


async def test_a_customer_without_email_is_sent_by_reference_only(
    izipay: FakeIzipay, izipay_gateway: IzipayPaymentGateway
) -> None:
    request = attrs.evolve(a_request(), customer_email=None)

    await izipay_gateway.create_payment(request)

    assert izipay.requests[0].json()["customer"] == {"reference": "cust-1"}


async def test_an_error_answer_is_a_refusal_naming_izipays_code(
    izipay: FakeIzipay, izipay_gateway: IzipayPaymentGateway
) -> None:
    error = {
        "errorCode": "INT_015",
        "errorMessage": "invalid customer email",
        "detailedErrorCode": None,
        "detailedErrorMessage": "Invalid input value [name=customer.email, value=fake-email]",
        "_type": "V4/WebService/WebServiceError",
    }
    izipay.answer_next(Reply(body=envelope("Charge/CreatePayment", "ERROR", error)))

    with pytest.raises(RuleViolated, match="INT_015 invalid customer email") as refused:
        await izipay_gateway.create_payment(a_request())

    assert refused.value.fields == {"payment": "INT_015"}
    assert "customer.email" in refused.value.detail


async def test_refused_credentials_leave_izipay_unavailable_not_the_request_wrong(
    izipay: FakeIzipay, client: httpx.AsyncClient, base_url: str
) -> None:
    gateway = gateway_at(client, base_url, password="testpassword_wrong")

    with pytest.raises(ExternalServiceUnavailable, match="credentials"):
        await gateway.create_payment(a_request())
    with pytest.raises(ExternalServiceUnavailable):
        await gateway.check()


@pytest.mark.parametrize("status", [429, 503])
async def test_a_busy_izipay_says_when_to_come_back(
    izipay: FakeIzipay, izipay_gateway: IzipayPaymentGateway, status: int
) -> None:
    izipay.answer_next(Reply(status, b"", {"Retry-After": "7"}))

    with pytest.raises(ExternalServiceUnavailable) as unavailable:
        await izipay_gateway.create_payment(a_request())

    assert unavailable.value.service == "izipay"
    assert unavailable.value.retry_after_seconds == 7


@pytest.mark.parametrize(
    "reply",
    [
        Reply(500, b"<html>Internal Server Error</html>"),
        Reply(502, b""),
        Reply(200, b"<html>maintenance</html>"),
        Reply(200, {"status": "SUCCESS", "answer": {"_type": "V4/Charge/PaymentForm"}}),
        Reply(200, {"status": "SOMETHING ELSE"}),
        Reply(404, b"not found"),
    ],
    ids=["500", "502", "html", "no-form-token", "unknown-status", "404"],
)
async def test_an_answer_that_is_not_izipays_leaves_it_unavailable(
    izipay: FakeIzipay, izipay_gateway: IzipayPaymentGateway, reply: Reply
) -> None:
    izipay.answer_next(reply)

    with pytest.raises(ExternalServiceUnavailable) as unavailable:
        await izipay_gateway.create_payment(a_request())

    assert unavailable.value.retry_after_seconds is None


async def test_a_silent_izipay_times_out_as_unavailable(izipay: FakeIzipay, base_url: str) -> None:
    izipay.answer_next(Reply(stall=True))
    async with httpx.AsyncClient(timeout=0.2) as impatient:
        gateway = gateway_at(impatient, base_url)

        with pytest.raises(ExternalServiceUnavailable, match="timed out"):
            await gateway.create_payment(a_request())


async def test_an_unreachable_izipay_is_unavailable(client: httpx.AsyncClient) -> None:
    with refusing_port() as port:
        gateway = gateway_at(client, f"http://127.0.0.1:{port}")

        with pytest.raises(ExternalServiceUnavailable, match="ConnectError"):
            await gateway.create_payment(a_request())
        with pytest.raises(ExternalServiceUnavailable):
            await gateway.check()


# ---------------------------------------------------------------------- CancelOrRefund


async def test_a_refund_is_a_cancel_or_refund_of_the_transaction_in_minor_units(
    izipay: FakeIzipay, izipay_gateway: IzipayPaymentGateway
) -> None:
    receipt = await izipay_gateway.refund(a_refund(15900, comment="customer changed their mind"))

    [_, request] = izipay.requests
    assert (request.method, request.path) == ("POST", CANCEL_OR_REFUND)
    expected = base64.b64encode(f"{SHOP_ID}:{PASSWORD}".encode()).decode()
    assert request.headers["authorization"] == f"Basic {expected}"
    assert request.headers["content-type"] == "application/json"
    assert request.json() == {
        "uuid": TRANSACTION,
        "amount": 15900,
        "currency": "PEN",
        "resolutionMode": "AUTO",
        "comment": "customer changed their mind",
    }
    assert receipt == RefundReceipt("izipay", CREDIT, "PAID")


async def test_a_refund_without_a_note_is_commented_with_the_order_reference(
    izipay: FakeIzipay, izipay_gateway: IzipayPaymentGateway
) -> None:
    await izipay_gateway.refund(a_refund())

    assert izipay.requests[-1].json()["comment"] == f"refund of {REFERENCE}"


async def test_a_payment_not_yet_captured_is_cancelled_and_keeps_its_own_uuid(
    izipay: FakeIzipay, izipay_gateway: IzipayPaymentGateway
) -> None:
    cancelled = transaction(TRANSACTION, "UNPAID", "CANCELLED", operation="DEBIT")
    izipay.answer_next(Reply(body=envelope("Transaction/CancelOrRefund", "SUCCESS", cancelled)))

    receipt = await izipay_gateway.refund(a_refund())

    assert receipt == RefundReceipt("izipay", TRANSACTION, "UNPAID")


async def test_a_refund_izipay_answers_with_an_error_is_a_refusal_naming_its_code(
    izipay: FakeIzipay, izipay_gateway: IzipayPaymentGateway
) -> None:
    error = {
        "errorCode": "PSP_104",
        "errorMessage": "transaction already refunded",
        "detailedErrorCode": None,
        "detailedErrorMessage": None,
        "_type": "V4/WebService/WebServiceError",
    }
    izipay.answer_next(Reply(body=envelope("Transaction/CancelOrRefund", "ERROR", error)))

    with pytest.raises(RuleViolated, match="PSP_104") as refused:
        await izipay_gateway.refund(a_refund())

    assert refused.value.fields == {"payment": "PSP_104"}


async def test_a_credit_the_acquirer_refused_is_a_refusal(
    izipay: FakeIzipay, izipay_gateway: IzipayPaymentGateway
) -> None:
    refused_credit = transaction(CREDIT, "UNPAID", "REFUSED")
    izipay.answer_next(
        Reply(body=envelope("Transaction/CancelOrRefund", "SUCCESS", refused_credit))
    )

    with pytest.raises(RuleViolated, match="REFUSED") as refused:
        await izipay_gateway.refund(a_refund())

    assert refused.value.fields == {"payment": "REFUSED"}


@pytest.mark.parametrize(
    "reply",
    [
        Reply(503, b""),
        Reply(500, b"<html>Internal Server Error</html>"),
        Reply(200, {"status": "SUCCESS", "answer": {"_type": "V4/PaymentTransaction"}}),
    ],
    ids=["503", "500", "no-uuid"],
)
async def test_a_refund_izipay_does_not_answer_leaves_it_unavailable(
    izipay: FakeIzipay, izipay_gateway: IzipayPaymentGateway, reply: Reply
) -> None:
    izipay.answer_next(reply)

    with pytest.raises(ExternalServiceUnavailable) as unavailable:
        await izipay_gateway.refund(a_refund())

    assert unavailable.value.service == "izipay"


def patient_runner() -> HyxResilienceRunner:
    """A runner that would try three times, with no real waiting between attempts."""

    async def no_wait(_: float) -> None:
        return None

    policy = ResiliencePolicy(
        timeout_seconds=5.0,
        retry=RetryPolicy(
            max_attempts=3,
            base_delay_seconds=0.1,
            max_delay_seconds=1.0,
            multiplier=2.0,
            max_retry_after_seconds=10,
        ),
        breaker=BreakerPolicy(failure_threshold=10, open_seconds=30.0, half_open_probes=1),
        bulkhead=BulkheadPolicy(max_concurrent=4, max_wait_seconds=1.0),
    )
    return HyxResilienceRunner("izipay", policy, sleep=no_wait)


async def test_a_refund_whose_answer_was_lost_is_repeated_without_refunding_twice(
    izipay: FakeIzipay, izipay_gateway: IzipayPaymentGateway
) -> None:
    gateway = resilient(izipay_gateway, patient_runner())
    izipay.answers_lost = 1

    receipt = await gateway.refund(a_refund(15900))

    assert receipt == RefundReceipt("izipay", CREDIT, "PAID")
    assert [r.path for r in izipay.requests] == [ORDER_GET, CANCEL_OR_REFUND, ORDER_GET]
    assert len(izipay.given) == 1


async def test_a_refund_asks_izipay_for_the_orders_refunds_by_its_reference_first(
    izipay: FakeIzipay, izipay_gateway: IzipayPaymentGateway
) -> None:
    await izipay_gateway.refund(a_refund())
    again = await izipay_gateway.refund(a_refund())

    assert again == RefundReceipt("izipay", CREDIT, "PAID")
    assert [r.path for r in izipay.requests] == [ORDER_GET, CANCEL_OR_REFUND, ORDER_GET]
    assert izipay.requests[0].json() == {"orderId": REFERENCE}


async def test_a_payment_izipay_already_cancelled_is_answered_as_the_refund(
    izipay: FakeIzipay, izipay_gateway: IzipayPaymentGateway
) -> None:
    izipay.given.append(transaction(TRANSACTION, "UNPAID", "CANCELLED", operation="DEBIT"))

    receipt = await izipay_gateway.refund(a_refund())

    assert receipt == RefundReceipt("izipay", TRANSACTION, "UNPAID")
    assert [r.path for r in izipay.requests] == [ORDER_GET]


async def test_a_credit_the_acquirer_refused_before_does_not_count_as_given(
    izipay: FakeIzipay, izipay_gateway: IzipayPaymentGateway
) -> None:
    izipay.given.append(transaction("refused-credit", "UNPAID", "REFUSED"))

    receipt = await izipay_gateway.refund(a_refund())

    assert receipt == RefundReceipt("izipay", CREDIT, "PAID")
    assert [r.path for r in izipay.requests] == [ORDER_GET, CANCEL_OR_REFUND]


async def test_the_same_runner_retries_what_may_be_repeated(
    izipay: FakeIzipay, izipay_gateway: IzipayPaymentGateway
) -> None:
    gateway = resilient(izipay_gateway, patient_runner())
    izipay.answer_next(Reply(503, b""))

    await gateway.check()

    assert [r.path for r in izipay.requests] == [SDK_TEST, SDK_TEST]


# ------------------------------------------------------------------------------ SDKTest


async def test_the_health_check_is_an_sdk_test_echo(
    izipay: FakeIzipay, izipay_gateway: IzipayPaymentGateway
) -> None:
    await izipay_gateway.check()

    [request] = izipay.requests
    assert request.path == SDK_TEST
    assert request.json() == {"value": "ping"}


@pytest.mark.parametrize(
    "answer",
    [
        envelope("Charge/SDKTest", "SUCCESS", {"value": "pong"}),
        envelope("Charge/SDKTest", "ERROR", {"errorCode": "INT_905", "errorMessage": "auth"}),
    ],
    ids=["wrong-echo", "error"],
)
async def test_a_health_check_without_the_echo_fails(
    izipay: FakeIzipay, izipay_gateway: IzipayPaymentGateway, answer: dict[str, Any]
) -> None:
    izipay.answer_next(Reply(body=answer))

    with pytest.raises(ExternalServiceUnavailable):
        await izipay_gateway.check()


# -------------------------------------------------------------------------------- setup


@pytest.mark.parametrize(
    "overrides",
    [{"shop_id": ""}, {"password": ""}, {"public_key": ""}],
    ids=["shop_id", "password", "public_key"],
)
async def test_missing_credentials_are_refused_at_start(
    client: httpx.AsyncClient, overrides: dict[str, str]
) -> None:
    with pytest.raises(ValueError, match="Izipay needs"):
        gateway_at(client, "https://api.micuentaweb.pe", **overrides)


async def test_a_base_url_without_a_scheme_is_refused_at_start(client: httpx.AsyncClient) -> None:
    with pytest.raises(ValueError, match="https://"):
        gateway_at(client, "api.micuentaweb.pe")
