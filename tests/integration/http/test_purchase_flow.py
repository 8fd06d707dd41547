"""A purchase end to end through the real app, on SQLite, PostgreSQL (directly and through
PgBouncer in transaction mode) and MariaDB."""

from __future__ import annotations

import asyncio

import pytest

from talia_core.identity.model import Role
from tests.api import Api, assert_problem
from tests.databases import WITH_PGBOUNCER
from tests.shop import FORM, IPN, answer, coupon, fill_cart, pending_order, shop, signed

pytestmark = pytest.mark.parametrize("database_url", WITH_PGBOUNCER, indirect=True)


async def run_jobs(api: Api) -> None:
    """Run the background jobs due, as a worker would, until none is left."""
    runner = api.container.use_cases.job_runner()
    while await runner.run_due(100):
        pass


async def test_a_purchase_goes_from_cart_to_paid_and_a_repeated_ipn_changes_nothing(
    api: Api,
) -> None:
    admin, plan_id = await shop(api)
    await coupon(api, admin, "HOLA10", percent_off=10)
    _, customer = await api.user()
    await fill_cart(api, customer, plan_id, quantity=2)
    check = await api.client.post(
        "/api/coupons/validate", json={"code": "hola10"}, headers=customer
    )
    assert check.json()["valid"] is True
    assert check.json()["discount"] == {"amount": 1_000, "currency": "PEN"}

    placed = await api.client.post("/api/orders", json={"coupon_code": "hola10"}, headers=customer)
    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert (order["status"], order["subtotal"]["amount"], order["discount"]["amount"]) == (
        "pending",
        10_000,
        1_000,
    )
    assert order["total"] == {"amount": 9_000, "currency": "PEN"}
    token = await api.client.post(
        "/api/payments/izipay/form-token", json={"order_id": order["id"]}, headers=customer
    )
    assert token.status_code == 200, token.text
    assert token.json()["form_token"]

    fields = signed(answer(order["reference"], 9_000))
    first = await api.client.post(IPN, data=fields)
    again = await api.client.post(IPN, data=fields)

    assert first.status_code == 200, first.text
    assert first.json()["outcome"] == "applied"
    assert again.status_code == 200, again.text
    assert again.json()["outcome"] == "duplicate"
    paid = (await api.client.get(f"/api/orders/{order['id']}", headers=customer)).json()
    assert paid["status"] == "paid"
    assert [step["to_status"] for step in paid["history"]] == ["pending", "paid"]
    journal = await api.client.get(
        f"/api/admin/payments/journal?order_id={order['id']}", headers=admin
    )
    assert [e["outcome"] for e in journal.json()["items"]] == ["applied"]
    cart = (await api.client.get("/api/cart", headers=customer)).json()
    assert cart["items"] == []


async def test_concurrent_checkouts_redeem_a_coupon_exactly_to_its_limit(api: Api) -> None:
    admin, plan_id = await shop(api)
    await coupon(api, admin, "TEN", max_redemptions=10, max_per_customer=1)
    customers = []
    for _ in range(40):
        _, customer = await api.user()
        await fill_cart(api, customer, plan_id)
        customers.append(customer)

    responses = await asyncio.gather(
        *(
            api.client.post("/api/orders", json={"coupon_code": "TEN"}, headers=customer)
            for customer in customers
        )
    )

    placed = [r for r in responses if r.status_code == 201]
    assert len(placed) == 10, [r.text for r in responses]
    assert all(r.json()["discount"]["amount"] == 500 for r in placed)
    for refused in (r for r in responses if r.status_code != 201):
        problem = assert_problem(refused, 422, "coupon_code")
        assert problem["errors"][0]["message"] == "exhausted"
    listed = (await api.client.get("/api/admin/coupons", headers=admin)).json()
    assert listed["items"][0]["redemptions"] == 10
    # Refused checkouts spend no number: the ten placed orders are numbered one after another.
    numbers = sorted(r.json()["number"] for r in placed)
    assert numbers == list(range(numbers[0], numbers[0] + 10))


async def test_concurrent_deliveries_of_one_ipn_pay_the_order_exactly_once(api: Api) -> None:
    admin, plan_id = await shop(api)
    _, order = await pending_order(api, admin, plan_id)
    fields = signed(answer(order["reference"], 5_000))

    responses = await asyncio.gather(*(api.client.post(IPN, data=fields) for _ in range(8)))

    assert [r.status_code for r in responses] == [200] * 8, [r.text for r in responses]
    outcomes = sorted(r.json()["outcome"] for r in responses)
    assert outcomes == ["applied"] + ["duplicate"] * 7
    journal = await api.client.get("/api/admin/payments/journal", headers=admin)
    assert journal.json()["total"] == 1


async def test_forged_or_unreadable_ipns_are_refused_journaled_and_change_nothing(
    api: Api,
) -> None:
    admin, plan_id = await shop(api)
    customer, order = await pending_order(api, admin, plan_id)
    genuine = answer(order["reference"], 5_000)
    forged = [
        (signed(genuine, key="not-the-password"), 403),
        (signed(genuine, **{"kr-hash-key": "sha256_hmac"}), 403),
        (signed(genuine, **{"kr-hash-algorithm": "md5"}), 403),
        ({**signed(genuine), "kr-answer": signed(genuine)["kr-answer"] + " "}, 403),
        (signed({"orderDetails": {}}), 400),
    ]

    for fields, status in forged:
        assert_problem(await api.client.post(IPN, data=fields), status)
    assert_problem(await api.client.post(IPN, content=b"kr-answer=%ZZ&&", headers=FORM), 400)
    assert_problem(await api.client.post(IPN, json={"kr-answer": "{}"}), 415)

    still = (await api.client.get(f"/api/orders/{order['id']}", headers=customer)).json()
    assert still["status"] == "pending"
    journal = (await api.client.get("/api/admin/payments/journal", headers=admin)).json()
    assert {e["outcome"] for e in journal["items"]} == {"rejected"}
    assert journal["total"] == 6


async def test_an_ipn_for_another_amount_flags_the_order_and_does_not_pay_it(api: Api) -> None:
    admin, plan_id = await shop(api)
    customer, order = await pending_order(api, admin, plan_id)

    response = await api.client.post(IPN, data=signed(answer(order["reference"], 100)))

    assert_problem(response, 422)
    after = (await api.client.get(f"/api/orders/{order['id']}", headers=customer)).json()
    assert after["status"] == "pending"
    assert "amount 100" in after["review_reason"]


async def test_an_admin_refund_after_a_signed_ipn_gives_the_money_back_through_the_provider(
    api: Api,
) -> None:
    admin, plan_id = await shop(api)
    customer, order = await pending_order(api, admin, plan_id)
    paid = await api.client.post(IPN, data=signed(answer(order["reference"], 5_000)))
    assert paid.json()["outcome"] == "applied", paid.text
    url = f"/api/admin/orders/{order['id']}/refund"

    refund = await api.client.post(url, json={"note": "customer changed their mind"}, headers=admin)
    again = await api.client.post(url, headers=admin)
    await run_jobs(api)
    done = await api.client.post(url, headers=admin)

    assert (refund.status_code, again.status_code) == (202, 202), (refund.text, again.text)
    assert refund.json()["status"] == again.json()["status"] == "refunding"
    assert_problem(done, 409)
    after = (await api.client.get(f"/api/orders/{order['id']}", headers=customer)).json()
    assert [step["to_status"] for step in after["history"]] == [
        "pending",
        "paid",
        "refunding",
        "refunded",
    ]
    journal = await api.client.get(
        f"/api/admin/payments/journal?order_id={order['id']}", headers=admin
    )
    entries = {e["outcome"]: e for e in journal.json()["items"]}
    assert sorted(entries) == ["applied", "refunded"]
    refunded = entries["refunded"]
    assert (refunded["provider"], refunded["status"], refunded["amount"]) == (
        "sandbox",
        "PAID",
        {"amount": 5_000, "currency": "PEN"},
    )
    assert refunded["transaction_id"] != entries["applied"]["transaction_id"]
    assert after["history"][-1]["note"] == (
        f"sandbox refund {refunded['transaction_id']}: customer changed their mind"
    )


async def test_concurrent_refunds_of_one_order_refund_it_once(api: Api) -> None:
    admin, plan_id = await shop(api)
    _, order = await pending_order(api, admin, plan_id)
    await api.client.post(IPN, data=signed(answer(order["reference"], 5_000)))
    url = f"/api/admin/orders/{order['id']}/refund"

    responses = await asyncio.gather(*(api.client.post(url, headers=admin) for _ in range(4)))
    await run_jobs(api)

    assert [r.status_code for r in responses] == [202] * 4, [r.text for r in responses]
    after = (await api.client.get("/api/admin/orders?status=refunded", headers=admin)).json()
    [refunded] = after["items"]
    assert [s["to_status"] for s in refunded["history"]].count("refunding") == 1
    journal = await api.client.get(
        f"/api/admin/payments/journal?order_id={order['id']}", headers=admin
    )
    assert sorted(e["outcome"] for e in journal.json()["items"]) == ["applied", "refunded"]


async def test_a_cancelled_order_gives_its_coupon_use_back(api: Api) -> None:
    admin, plan_id = await shop(api)
    await coupon(api, admin, "ONCE", max_redemptions=1)
    customer, first = await pending_order(api, admin, plan_id, "ONCE")
    _, blocked = await api.user()
    await fill_cart(api, blocked, plan_id)
    refused = await api.client.post("/api/orders", json={"coupon_code": "ONCE"}, headers=blocked)
    assert_problem(refused, 422, "coupon_code")

    cancel = await api.client.post(f"/api/orders/{first['id']}/cancel", headers=customer)
    retried = await api.client.post("/api/orders", json={"coupon_code": "ONCE"}, headers=blocked)

    assert cancel.json()["status"] == "cancelled"
    assert retried.status_code == 201, retried.text
    assert retried.json()["coupon_code"] == "ONCE"


async def test_illegal_order_moves_answer_409_and_change_nothing(api: Api) -> None:
    admin, plan_id = await shop(api)
    customer, order = await pending_order(api, admin, plan_id)
    await api.client.post(IPN, data=signed(answer(order["reference"], 5_000)))

    cancel = await api.client.post(f"/api/orders/{order['id']}/cancel", headers=customer)
    fulfilled = await api.client.post(f"/api/admin/orders/{order['id']}/fulfil", headers=admin)
    refund = await api.client.post(f"/api/admin/orders/{order['id']}/refund", headers=admin)

    assert_problem(cancel, 409)
    assert fulfilled.status_code == 200
    assert_problem(refund, 409)
    after = (await api.client.get(f"/api/orders/{order['id']}", headers=customer)).json()
    assert [s["to_status"] for s in after["history"]] == ["pending", "paid", "fulfilled"]


async def test_another_customers_order_cannot_be_seen_paid_for_or_cancelled(api: Api) -> None:
    admin, plan_id = await shop(api)
    _, order = await pending_order(api, admin, plan_id)
    _, stranger = await api.user(Role.CUSTOMER)

    for response in (
        await api.client.get(f"/api/orders/{order['id']}", headers=stranger),
        await api.client.post(f"/api/orders/{order['id']}/cancel", headers=stranger),
        await api.client.post(
            "/api/payments/izipay/form-token", json={"order_id": order["id"]}, headers=stranger
        ),
    ):
        assert_problem(response, 404)


async def test_an_admin_write_changes_the_catalogs_etag(api: Api) -> None:
    admin, plan_id = await shop(api)
    first = await api.client.get("/api/plans")
    etag = first.headers["etag"]
    assert (await api.client.get("/api/plans", headers={"If-None-Match": etag})).status_code == 304

    await api.client.patch(
        f"/api/admin/plans/{plan_id}",
        json={"price": {"amount": 6_000, "currency": "PEN"}},
        headers=admin,
    )
    after = await api.client.get("/api/plans", headers={"If-None-Match": etag})

    assert after.status_code == 200
    assert after.headers["etag"] != etag
    assert after.json()["items"][0]["price"]["amount"] == 6_000
