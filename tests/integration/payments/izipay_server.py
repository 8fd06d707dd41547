"""A local HTTP server speaking Izipay's REST V4 format, for the gateway's tests and the
app's: it checks HTTP Basic auth the way Izipay does, records every request, answers
CreatePayment, CancelOrRefund, Order/Get (from the refunds it gave) and SDKTest, can be told
what to answer next to anything but Order/Get (an ERROR, a 503, silence...), and can hold
refunds unanswered (``slow_refunds``) to show what goes on meanwhile.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

from tests.fakeserver import LocalServer, Recorded, Reply

SHOP_ID = "69876357"
PASSWORD = "testpassword_" + "k" * 40
PUBLIC_KEY = f"{SHOP_ID}:testpublickey_" + "p" * 40
CREATE_PAYMENT = "/api-payment/V4/Charge/CreatePayment"
SDK_TEST = "/api-payment/V4/Charge/SDKTest"
CANCEL_OR_REFUND = "/api-payment/V4/Transaction/CancelOrRefund"
ORDER_GET = "/api-payment/V4/Order/Get"
CREDIT = "5f3b1c0e8a2d4e6f9a7b3c1d2e4f6a8b"


def transaction(
    uuid: str, status: str, detailed_status: str, *, operation: str = "CREDIT", amount: int = 15900
) -> dict[str, Any]:
    """A V4/PaymentTransaction as CancelOrRefund answers it: what the gateway reads, and more."""
    return {
        "shopId": SHOP_ID,
        "uuid": uuid,
        "amount": amount,
        "currency": "PEN",
        "paymentMethodType": "CARD",
        "status": status,
        "detailedStatus": detailed_status,
        "operationType": operation,
        "errorCode": None,
        "errorMessage": None,
        "_type": "V4/PaymentTransaction",
    }


def envelope(web_service: str, status: str, answer: dict[str, Any]) -> dict[str, Any]:
    return {
        "webService": web_service,
        "version": "V4",
        "applicationVersion": "6.14.3",
        "status": status,
        "answer": answer,
        "ticket": None,
        "serverDate": "2026-01-01T12:00:00+00:00",
        "applicationProvider": "LYRA",
        "metadata": None,
        "mode": "TEST",
        "_type": "V4/WebService/Response",
    }


class FakeIzipay(LocalServer):
    content_type = "application/json;charset=UTF-8"

    def __init__(self, shop_id: str, password: str) -> None:
        super().__init__()
        credentials = base64.b64encode(f"{shop_id}:{password}".encode()).decode()
        self._expected_auth = f"Basic {credentials}"
        self.next_replies: deque[Reply] = deque()
        self.given: list[dict[str, Any]] = []  # the refunds given, as Order/Get lists them
        self.answers_lost = 0  # refunds to give, then answer 503 as if the answer was lost
        self.slow_refunds = False  # take refunds and answer none until the server closes
        self.refund_asked = asyncio.Event()

    def answer_next(self, reply: Reply) -> None:
        self.next_replies.append(reply)

    def answer(self, request: Recorded) -> Reply:
        """What Izipay answers: what it was told to, but to Order/Get always the truth."""
        if request.headers.get("authorization") != self._expected_auth:
            return Reply(401, b"")
        if request.method != "POST":
            return Reply(404, b"")
        if request.path == ORDER_GET:
            answer = {"transactions": self.given, "_type": "V4/OrderTransactions"}
            return Reply(body=envelope("Order/Get", "SUCCESS", answer))
        if self.next_replies:
            return self.next_replies.popleft()
        if request.path == SDK_TEST:
            answer = {"value": request.json()["value"], "_type": "V4/Type/String"}
            return Reply(body=envelope("Charge/SDKTest", "SUCCESS", answer))
        if request.path == CREATE_PAYMENT:
            token = "01" + base64.b64encode(request.body).decode()[:40]
            answer = {"formToken": token, "_type": "V4/Charge/PaymentForm"}
            return Reply(body=envelope("Charge/CreatePayment", "SUCCESS", answer))
        if request.path == CANCEL_OR_REFUND:
            self.refund_asked.set()
            if self.slow_refunds:
                return Reply(stall=True)
            # A captured payment: refunded by a new credit transaction of its own.
            answer = transaction(CREDIT, "PAID", "AUTHORISED", amount=request.json()["amount"])
            self.given.append(answer)
            if self.answers_lost:
                self.answers_lost -= 1
                return Reply(503, b"")
            return Reply(body=envelope("Transaction/CancelOrRefund", "SUCCESS", answer))
        return Reply(404, b"<html>not found</html>")


@contextlib.asynccontextmanager
async def fake_izipay() -> AsyncIterator[FakeIzipay]:
    """A server that takes the test shop's credentials, closed after use (start it)."""
    server = FakeIzipay(SHOP_ID, PASSWORD)
    try:
        yield server
    finally:
        await server.close()
