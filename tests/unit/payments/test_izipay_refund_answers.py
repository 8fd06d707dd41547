"""What Izipay answers to a refund is read only when it fits the core's rules: a refund id or
status it cannot hold is an unreadable answer, never cut to fit."""

from __future__ import annotations

import json

import httpx
import pytest

from adapters.payments.izipay import IzipayPaymentGateway
from talia_core.commerce.payment import (
    MAX_STATUS,
    MAX_TRANSACTION_ID,
    PAID,
    RefundReceipt,
    RefundRequest,
)
from talia_core.shared.errors import ExternalServiceUnavailable
from talia_core.shared.money import Money

REQUEST = RefundRequest("TA-000001", "a" * 32, Money(5_000, "PEN"), comment="changed mind")


def _answering(uuid: str, status: str) -> httpx.AsyncClient:
    def reply(_: httpx.Request) -> httpx.Response:
        answer = {"uuid": uuid, "status": status, "detailedStatus": "ACCEPTED"}
        return httpx.Response(200, content=json.dumps({"status": "SUCCESS", "answer": answer}))

    return httpx.AsyncClient(transport=httpx.MockTransport(reply))


def _gateway(client: httpx.AsyncClient) -> IzipayPaymentGateway:
    return IzipayPaymentGateway(
        client,
        base_url="https://api.izipay.test",
        shop_id="69876357",
        password="testpassword_x",
        public_key="69876357:testpublickey_x",
    )


async def test_a_refund_answer_at_the_limits_is_read_whole() -> None:
    async with _answering("r" * MAX_TRANSACTION_ID, "S" * MAX_STATUS) as client:
        receipt = await _gateway(client).refund(REQUEST)

    assert receipt == RefundReceipt("izipay", "r" * MAX_TRANSACTION_ID, "S" * MAX_STATUS)


@pytest.mark.parametrize(
    ("uuid", "status"),
    [("r" * (MAX_TRANSACTION_ID + 1), PAID), ("r" * 32, "S" * (MAX_STATUS + 1))],
    ids=["refund-id", "status"],
)
async def test_a_refund_answer_over_the_limits_is_unreadable(uuid: str, status: str) -> None:
    async with _answering(uuid, status) as client:
        with pytest.raises(ExternalServiceUnavailable, match="readable transaction uuid"):
            await _gateway(client).refund(REQUEST)
