"""Building a shop through the HTTP API, and IPNs signed the way Izipay signs them."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from typing import Any

from entrypoints.settings import DEMO_SANDBOX_SECRET
from talia_core.identity.model import Role
from tests.api import Api

FORM = {"content-type": "application/x-www-form-urlencoded"}
IPN = "/api/payments/izipay/ipn"


def pen(amount: int) -> dict[str, Any]:
    return {"amount": amount, "currency": "PEN"}


async def plan(api: Api, admin: dict[str, str], amount: int = 5_000, **changes: Any) -> str:
    body = {"name": "Celebration", "price": pen(amount), "features": ["RSVP"], **changes}
    response = await api.client.post("/api/admin/plans", json=body, headers=admin)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def coupon(api: Api, admin: dict[str, str], code: str = "HOLA10", **terms: Any) -> str:
    body = {"code": code, "kind": "percentage", "percent_off": 10, **terms}
    response = await api.client.post("/api/admin/coupons", json=body, headers=admin)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def fill_cart(api: Api, customer: dict[str, str], plan_id: str, quantity: int = 1) -> None:
    response = await api.client.post(
        "/api/cart/items", json={"plan_id": plan_id, "quantity": quantity}, headers=customer
    )
    assert response.status_code == 201, response.text


async def shop(api: Api) -> tuple[dict[str, str], str]:
    """An admin's headers and a 50.00 PEN plan."""
    _, admin = await api.user(Role.ADMIN)
    return admin, await plan(api, admin)


async def pending_order(
    api: Api, admin: dict[str, str], plan_id: str, coupon_code: str | None = None
) -> tuple[dict[str, str], dict[str, Any]]:
    """A new customer's headers and the order they placed for one ``plan_id``."""
    _, customer = await api.user()
    await fill_cart(api, customer, plan_id)
    body = {"coupon_code": coupon_code} if coupon_code else {}
    response = await api.client.post("/api/orders", json=body, headers=customer)
    assert response.status_code == 201, response.text
    return customer, response.json()


def answer(
    reference: str,
    amount: int,
    *,
    status: str = "PAID",
    transaction: str | None = None,
    currency: str = "PEN",
) -> dict[str, Any]:
    """A Krypton V4/Payment answer as Izipay's documentation shows it."""
    return {
        "shopId": "69876357",
        "orderCycle": "CLOSED" if status == "PAID" else "OPEN",
        "orderStatus": status,
        "serverDate": "2026-11-23T20:00:00+00:00",
        "orderDetails": {
            "orderTotalAmount": amount,
            "orderEffectiveAmount": amount,
            "orderCurrency": currency,
            "mode": "TEST",
            "orderId": reference,
            "_type": "V4/OrderDetails",
        },
        "customer": {"email": "ana@example.com", "_type": "V4/Customer/Customer"},
        "transactions": [
            {
                "shopId": "69876357",
                "uuid": transaction or uuid.uuid4().hex,
                "amount": amount,
                "currency": currency,
                "paymentMethodType": "CARD",
                "status": status,
                "detailedStatus": "AUTHORISED" if status == "PAID" else "REFUSED",
                "_type": "V4/PaymentTransaction",
            }
        ],
        "_type": "V4/Payment",
    }


def signed(answer: dict[str, Any], key: str = DEMO_SANDBOX_SECRET, **fields: str) -> dict[str, str]:
    """The IPN form fields, ``kr-hash`` computed as Izipay computes it."""
    kr_answer = json.dumps(answer)
    form = {
        "kr-answer": kr_answer,
        "kr-hash": hmac.new(key.encode(), kr_answer.encode(), hashlib.sha256).hexdigest(),
        "kr-hash-algorithm": "sha256_hmac",
        "kr-hash-key": "password",
        "kr-answer-type": "V4/Payment",
    }
    form.update(fields)
    return form
