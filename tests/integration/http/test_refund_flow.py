"""A refund through Izipay (a local server speaking its REST format) on SQLite, PostgreSQL
and MariaDB: no lock on the order is held while Izipay answers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from tests.api import Api, assert_problem, open_api, settings_for_tests
from tests.integration.http.test_purchase_flow import run_jobs
from tests.integration.payments.izipay_server import (
    CANCEL_OR_REFUND,
    ORDER_GET,
    PASSWORD,
    PUBLIC_KEY,
    SHOP_ID,
    FakeIzipay,
    fake_izipay,
)
from tests.shop import IPN, answer, pending_order, shop, signed


@pytest.fixture
async def izipay() -> AsyncIterator[FakeIzipay]:
    async with fake_izipay() as server:
        yield server


@pytest.fixture
async def api(database_url: str, izipay: FakeIzipay) -> AsyncIterator[Api]:
    payments = {
        "provider": "izipay",
        "izipay_api_url": await izipay.start(),
        "izipay_shop_id": SHOP_ID,
        "izipay_password": PASSWORD,
        "izipay_public_key": PUBLIC_KEY,
    }
    settings = settings_for_tests(
        database_url, payments=payments, resilience={"timeout_seconds": 1, "retry_attempts": 1}
    )
    async with open_api(settings) as opened:
        yield opened


async def paid_order(api: Api) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """An admin's headers, a paid order and the IPN that paid it."""
    admin, plan_id = await shop(api)
    _, order = await pending_order(api, admin, plan_id)
    ipn = signed(answer(order["reference"], 5_000), key=PASSWORD)
    paid = await api.client.post(IPN, data=ipn)
    assert paid.json()["outcome"] == "applied", paid.text
    return admin, order, ipn


async def test_writes_to_an_order_go_through_while_izipay_holds_its_refund(
    api: Api, izipay: FakeIzipay
) -> None:
    admin, order, ipn = await paid_order(api)
    izipay.slow_refunds = True
    refund = await api.client.post(f"/api/admin/orders/{order['id']}/refund", headers=admin)
    assert refund.status_code == 202, refund.text
    worker = asyncio.create_task(run_jobs(api))
    await asyncio.wait_for(izipay.refund_asked.wait(), timeout=10)

    repeated = await api.client.post(IPN, data=ipn)
    fulfil = await api.client.post(f"/api/admin/orders/{order['id']}/fulfil", headers=admin)

    still_asking = not worker.done()
    await worker  # Izipay never answers: the attempt times out and the job waits to retry
    assert still_asking
    assert (repeated.status_code, repeated.json()["outcome"]) == (200, "duplicate")
    assert_problem(fulfil, 409)
    after = await api.client.get("/api/admin/orders?status=refunding", headers=admin)
    assert [o["id"] for o in after.json()["items"]] == [order["id"]]


async def test_an_izipay_refund_ends_refunded_with_its_credit_in_the_journal(
    api: Api, izipay: FakeIzipay
) -> None:
    admin, order, _ = await paid_order(api)

    refund = await api.client.post(f"/api/admin/orders/{order['id']}/refund", headers=admin)
    await run_jobs(api)

    assert (refund.status_code, refund.json()["status"]) == (202, "refunding")
    [refunded] = (await api.client.get("/api/admin/orders?status=refunded", headers=admin)).json()[
        "items"
    ]
    assert refunded["id"] == order["id"]
    journal = await api.client.get(
        f"/api/admin/payments/journal?order_id={order['id']}", headers=admin
    )
    assert sorted(e["outcome"] for e in journal.json()["items"]) == ["applied", "refunded"]
    paths = [r.path for r in izipay.requests]
    assert paths[-2:] == [ORDER_GET, CANCEL_OR_REFUND]
