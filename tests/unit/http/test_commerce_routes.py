"""Catalog, cart, coupon, order and payment routes over the in-memory fakes.

Every refused call answers a 4xx ``application/problem+json`` and leaves what the shop
holds as it was: the tests compare a snapshot read through the admin's routes.
"""

from __future__ import annotations

from typing import Any

import pytest

from entrypoints.http.catalog import PublicCatalog
from talia_core.commerce.order_service import MAX_REFUND_NOTE
from talia_core.identity.model import Role
from tests.api import Api, assert_problem
from tests.shop import (
    FORM,
    IPN,
    answer,
    coupon,
    fill_cart,
    pen,
    pending_order,
    plan,
    shop,
    signed,
)


async def holdings(api: Api, admin: dict[str, str], customer: dict[str, str]) -> dict[str, Any]:
    async def get(path: str, headers: dict[str, str]) -> Any:
        response = await api.client.get(path, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()

    return {
        "plans": await get("/api/admin/plans", admin),
        "coupons": await get("/api/admin/coupons?limit=200", admin),
        "orders": await get("/api/admin/orders?limit=200", admin),
        "journal": await get("/api/admin/payments/journal?limit=200", admin),
        "cart": await get("/api/cart", customer),
    }


# --- catalog ------------------------------------------------------------------------------


async def test_the_public_catalog_lists_active_plans_cheapest_first(api: Api) -> None:
    admin, _ = await shop(api)
    await plan(api, admin, 1_000, name="Mini")
    await plan(api, admin, 9_000, name="Hidden", active=False)

    listed = (await api.client.get("/api/plans")).json()

    assert [p["name"] for p in listed["items"]] == ["Mini", "Celebration"]
    assert listed["total"] == 2


async def test_a_current_etag_gets_304_and_an_admin_write_gets_a_fresh_listing(api: Api) -> None:
    admin, plan_id = await shop(api)
    first = await api.client.get("/api/plans")
    etag = first.headers["etag"]

    cached = await api.client.get("/api/plans", headers={"If-None-Match": f'W/{etag}, "x"'})
    await api.client.patch(f"/api/admin/plans/{plan_id}", json={"name": "Renamed"}, headers=admin)
    changed = await api.client.get("/api/plans", headers={"If-None-Match": etag})

    assert first.headers["cache-control"] == "public, no-cache"
    assert cached.status_code == 304
    assert cached.content == b""
    assert changed.status_code == 200
    assert changed.json()["items"][0]["name"] == "Renamed"
    assert changed.headers["etag"] != etag


async def test_templates_are_filtered_by_category(api: Api) -> None:
    _, admin = await api.user(Role.ADMIN)
    for name, category in (("Olivo", "wedding"), ("Confeti", "birthday")):
        body = {"name": name, "category": category, "price": pen(2_900)}
        response = await api.client.post("/api/admin/templates", json=body, headers=admin)
        assert response.status_code == 201, response.text

    weddings = (await api.client.get("/api/templates?category=Wedding")).json()

    assert [t["name"] for t in weddings["items"]] == ["Olivo"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "", "price": pen(100)}, "name"),
        ({"name": "X", "price": {"amount": -1, "currency": "PEN"}}, "price.amount"),
        ({"name": "X", "price": {"amount": "100", "currency": "PEN"}}, "price.amount"),
        ({"name": "X", "price": {"amount": 1.5, "currency": "PEN"}}, "price.amount"),
        ({"name": "X", "price": {"amount": 100, "currency": "pen"}}, "price.currency"),
        ({"name": "X", "price": pen(100), "colour": "red"}, "colour"),
    ],
)
async def test_a_malformed_plan_is_refused_and_nothing_is_stored(
    api: Api, body: dict[str, Any], field: str
) -> None:
    _, admin = await api.user(Role.ADMIN)

    response = await api.client.post("/api/admin/plans", json=body, headers=admin)

    assert_problem(response, 400)
    assert (await api.client.get("/api/admin/plans", headers=admin)).json() == []


async def test_a_price_in_another_currency_is_refused(api: Api) -> None:
    _, admin = await api.user(Role.ADMIN)
    body = {"name": "Dollar", "price": {"amount": 100, "currency": "USD"}}

    response = await api.client.post("/api/admin/plans", json=body, headers=admin)

    assert_problem(response, 422, "price.currency")


async def test_customers_cannot_change_the_catalog(api: Api) -> None:
    _, customer = await api.user()

    response = await api.client.post(
        "/api/admin/plans", json={"name": "X", "price": pen(1)}, headers=customer
    )

    assert_problem(response, 403)


# --- cart and coupons ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"quantity": 1},
        {"plan_id": "p", "template_id": "t"},
        {"plan_id": "PLAN", "quantity": 0},
        {"plan_id": "PLAN", "quantity": 101},
        {"plan_id": "PLAN", "quantity": "2"},
        {"plan_id": "PLAN", "quantity": True},
    ],
)
async def test_a_malformed_cart_item_is_refused_and_the_cart_is_unchanged(
    api: Api, body: dict[str, Any]
) -> None:
    admin, plan_id = await shop(api)
    _, customer = await api.user()
    body = {k: plan_id if v == "PLAN" else v for k, v in body.items()}
    before = await holdings(api, admin, customer)

    response = await api.client.post("/api/cart/items", json=body, headers=customer)

    assert_problem(response, 400)
    assert await holdings(api, admin, customer) == before


async def test_an_unknown_or_inactive_plan_cannot_go_in_the_cart(api: Api) -> None:
    admin, plan_id = await shop(api)
    _, customer = await api.user()
    await api.client.patch(f"/api/admin/plans/{plan_id}", json={"active": False}, headers=admin)
    before = await holdings(api, admin, customer)

    for wanted in ("no-such-plan", plan_id):
        response = await api.client.post(
            "/api/cart/items", json={"plan_id": wanted}, headers=customer
        )
        assert_problem(response, 422, "plan_id")
    assert await holdings(api, admin, customer) == before


async def test_a_product_added_twice_is_one_line_with_both_quantities(api: Api) -> None:
    _, plan_id = await shop(api)
    _, customer = await api.user()

    await fill_cart(api, customer, plan_id, 2)
    await fill_cart(api, customer, plan_id, 3)
    cart = (await api.client.get("/api/cart", headers=customer)).json()

    assert [(i["quantity"], i["line_total"]["amount"]) for i in cart["items"]] == [(5, 25_000)]
    assert cart["subtotal"] == pen(25_000)


async def test_removing_an_item_empties_the_cart_and_an_unknown_item_is_404(api: Api) -> None:
    _, plan_id = await shop(api)
    _, customer = await api.user()
    await fill_cart(api, customer, plan_id)
    item = (await api.client.get("/api/cart", headers=customer)).json()["items"][0]

    removed = await api.client.delete(f"/api/cart/items/{item['id']}", headers=customer)
    again = await api.client.delete(f"/api/cart/items/{item['id']}", headers=customer)

    assert removed.json()["items"] == []
    assert_problem(again, 404)


async def test_a_deleted_plan_shows_unavailable_and_blocks_checkout(api: Api) -> None:
    admin, plan_id = await shop(api)
    _, customer = await api.user()
    await fill_cart(api, customer, plan_id)
    await api.client.delete(f"/api/admin/plans/{plan_id}", headers=admin)

    cart = (await api.client.get("/api/cart", headers=customer)).json()
    checkout = await api.client.post("/api/orders", json={}, headers=customer)

    assert cart["items"][0]["available"] is False
    assert cart["subtotal"] == pen(0)
    assert_problem(checkout, 422, "items")


@pytest.mark.parametrize(
    ("terms", "reason"),
    [
        ({"code": "NOPE"}, "unknown"),
        ({"active": False}, "inactive"),
        ({"valid_from": "2099-01-01T00:00:00Z"}, "not_started"),
        ({"valid_until": "2001-01-01T00:00:00Z", "valid_from": "2000-01-01T00:00:00Z"}, "expired"),
        ({"minimum_order": pen(999_999)}, "below_minimum"),
        ({"applies_to": [{"kind": "template", "id": "other"}]}, "not_applicable"),
    ],
)
async def test_validating_a_coupon_says_why_it_cannot_be_used(
    api: Api, terms: dict[str, Any], reason: str
) -> None:
    admin, plan_id = await shop(api)
    await coupon(api, admin, "SAVE", **{k: v for k, v in terms.items() if k != "code"})
    _, customer = await api.user()
    await fill_cart(api, customer, plan_id)

    check = await api.client.post(
        "/api/coupons/validate", json={"code": terms.get("code", "save")}, headers=customer
    )
    checkout = await api.client.post(
        "/api/orders", json={"coupon_code": terms.get("code", "save")}, headers=customer
    )

    assert check.status_code == 200
    assert (check.json()["valid"], check.json()["reason"]) == (False, reason)
    assert check.json()["message"]
    problem = assert_problem(checkout, 422, "coupon_code")
    assert problem["errors"][0]["message"] == reason
    assert len((await api.client.get("/api/cart", headers=customer)).json()["items"]) == 1


async def test_a_coupon_used_up_by_a_customer_is_refused_to_them_only(api: Api) -> None:
    admin, plan_id = await shop(api)
    await coupon(api, admin, "ONEEACH", max_per_customer=1)
    customer, _ = await pending_order(api, admin, plan_id, "ONEEACH")
    await fill_cart(api, customer, plan_id)

    mine = await api.client.post(
        "/api/coupons/validate", json={"code": "ONEEACH"}, headers=customer
    )
    _, other = await pending_order(api, admin, plan_id, "ONEEACH")

    assert mine.json()["reason"] == "customer_limit_reached"
    assert other["discount"]["amount"] == 500


async def test_checkout_of_an_empty_cart_is_refused(api: Api) -> None:
    _, customer = await api.user()

    response = await api.client.post("/api/orders", headers=customer)

    assert_problem(response, 422, "cart")


# --- orders and payments -----------------------------------------------------------------


async def test_orders_get_sequential_numbers_and_references(api: Api) -> None:
    admin, plan_id = await shop(api)

    orders = [(await pending_order(api, admin, plan_id))[1] for _ in range(3)]

    assert [o["number"] for o in orders] == [1, 2, 3]
    assert [o["reference"] for o in orders] == ["TA-000001", "TA-000002", "TA-000003"]


async def test_the_sandbox_page_pays_an_order_through_the_ipn_route(api: Api) -> None:
    admin, plan_id = await shop(api)
    customer, order = await pending_order(api, admin, plan_id)
    form = await api.client.post(
        "/api/payments/izipay/form-token", json={"order_id": order["id"]}, headers=customer
    )
    page_url = form.json()["sandbox_url"]

    page = await api.client.get(page_url)
    done = await api.client.post(page_url, data={"outcome": "paid"})

    assert "TA-000001" in page.text
    assert "50.00 PEN" in page.text
    assert done.status_code == 200
    assert "Paid" in done.text
    paid = (await api.client.get(f"/api/orders/{order['id']}", headers=customer)).json()
    assert paid["status"] == "paid"
    assert paid["history"][-1]["actor"] == "gateway:sandbox"


async def test_a_declined_sandbox_payment_is_recorded_and_the_order_stays_pending(
    api: Api,
) -> None:
    admin, plan_id = await shop(api)
    customer, order = await pending_order(api, admin, plan_id)
    form = await api.client.post(
        "/api/payments/izipay/form-token", json={"order_id": order["id"]}, headers=customer
    )

    await api.client.post(form.json()["sandbox_url"], data={"outcome": "unpaid"})

    after = (await api.client.get(f"/api/orders/{order['id']}", headers=customer)).json()
    journal = (await api.client.get("/api/admin/payments/journal", headers=admin)).json()
    assert after["status"] == "pending"
    assert [(e["outcome"], e["status"]) for e in journal["items"]] == [("recorded", "UNPAID")]


async def test_a_tampered_sandbox_token_is_refused(api: Api) -> None:
    admin, plan_id = await shop(api)
    customer, order = await pending_order(api, admin, plan_id)
    form = await api.client.post(
        "/api/payments/izipay/form-token", json={"order_id": order["id"]}, headers=customer
    )
    token = form.json()["form_token"]

    response = await api.client.get(f"/sandbox/payments/{token[:-4]}beef")

    assert_problem(response, 403)


async def test_a_paid_order_cannot_be_paid_again(api: Api) -> None:
    admin, plan_id = await shop(api)
    customer, order = await pending_order(api, admin, plan_id)
    await api.client.post(IPN, data=signed(answer(order["reference"], 5_000)))

    response = await api.client.post(
        "/api/payments/izipay/form-token", json={"order_id": order["id"]}, headers=customer
    )

    assert_problem(response, 422, "order_id")


async def test_a_second_paid_transaction_flags_the_order_for_review(api: Api) -> None:
    admin, plan_id = await shop(api)
    customer, order = await pending_order(api, admin, plan_id)
    await api.client.post(IPN, data=signed(answer(order["reference"], 5_000)))

    second = await api.client.post(IPN, data=signed(answer(order["reference"], 5_000)))

    assert second.json()["outcome"] == "review"
    after = (await api.client.get(f"/api/orders/{order['id']}", headers=customer)).json()
    assert after["status"] == "paid"
    assert "while paid" in after["review_reason"]


@pytest.mark.parametrize(
    ("reference", "transaction", "field"),
    [
        ("TA-" + "9" * 62, None, "orderDetails.orderId"),
        (None, "t" * 65, "transactions[0].uuid"),
    ],
    ids=["order-reference", "transaction-id"],
)
async def test_an_ipn_with_an_over_long_field_is_refused_journaled_and_pays_nothing(
    api: Api, reference: str | None, transaction: str | None, field: str
) -> None:
    admin, plan_id = await shop(api)
    customer, order = await pending_order(api, admin, plan_id)
    fields = signed(answer(reference or order["reference"], 5_000, transaction=transaction))

    response = await api.client.post(IPN, data=fields)

    assert field in assert_problem(response, 400)["detail"]
    after = (await api.client.get(f"/api/orders/{order['id']}", headers=customer)).json()
    assert after["status"] == "pending"
    journal = (await api.client.get("/api/admin/payments/journal", headers=admin)).json()
    assert [(e["outcome"], e["order_id"]) for e in journal["items"]] == [("rejected", None)]
    assert field in journal["items"][0]["detail"]


async def test_a_refund_note_longer_than_the_history_keeps_is_refused_naming_the_note(
    api: Api,
) -> None:
    admin, plan_id = await shop(api)
    customer, order = await pending_order(api, admin, plan_id)
    await api.client.post(IPN, data=signed(answer(order["reference"], 5_000)))
    before = await holdings(api, admin, customer)

    response = await api.client.post(
        f"/api/admin/orders/{order['id']}/refund",
        json={"note": "n" * (MAX_REFUND_NOTE + 1)},
        headers=admin,
    )

    assert_problem(response, 400, "note")
    assert await holdings(api, admin, customer) == before


async def test_an_ipn_over_the_size_limit_is_413(api: Api) -> None:
    body = b"kr-answer=" + b"x" * 2_000_000

    response = await api.client.post(IPN, content=body, headers=FORM)

    assert_problem(response, 413)


async def test_an_admin_lists_orders_by_status_and_sees_the_sales_summary(api: Api) -> None:
    admin, plan_id = await shop(api)
    _, paid = await pending_order(api, admin, plan_id)
    await pending_order(api, admin, plan_id)
    await api.client.post(IPN, data=signed(answer(paid["reference"], 5_000)))

    pending = await api.client.get("/api/admin/orders?status=pending", headers=admin)
    summary = await api.client.get(
        "/api/admin/sales/summary?from=2000-01-01&to=2000-12-31", headers=admin
    )
    today = await api.client.get(
        "/api/admin/sales/summary?from=2026-01-01&to=2026-12-31", headers=admin
    )

    assert pending.json()["total"] == 1
    assert summary.json()["orders"] == 0
    assert today.json()["orders"] == 1
    assert today.json()["revenue"] == pen(5_000)


async def test_a_summary_period_over_a_year_is_refused(api: Api) -> None:
    _, admin = await api.user(Role.ADMIN)

    response = await api.client.get(
        "/api/admin/sales/summary?from=2024-01-01&to=2026-01-01", headers=admin
    )

    assert_problem(response, 422, "to")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/cart"),
        ("POST", "/api/orders"),
        ("GET", "/api/orders"),
        ("POST", "/api/coupons/validate"),
        ("POST", "/api/payments/izipay/form-token"),
    ],
)
async def test_shopping_routes_need_a_signed_in_customer(api: Api, method: str, path: str) -> None:
    response = await api.client.request(method, path, json={})

    assert_problem(response, 401)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/admin/orders"),
        ("GET", "/api/admin/coupons"),
        ("POST", "/api/admin/coupons"),
        ("GET", "/api/admin/sales/summary?from=2026-01-01&to=2026-01-02"),
        ("GET", "/api/admin/payments/journal"),
        ("POST", "/api/admin/orders/x/refund"),
    ],
)
async def test_admin_shop_routes_refuse_customers(api: Api, method: str, path: str) -> None:
    _, customer = await api.user()

    response = await api.client.request(method, path, json={}, headers=customer)

    assert_problem(response, 403)


async def test_a_listing_read_while_an_admin_changes_the_catalog_is_not_kept() -> None:
    class SlowCatalog:
        """Reads 'old' and, while it does, an admin's write clears the cache."""

        def __init__(self) -> None:
            self.reads = 0
            self.public: PublicCatalog | None = None

        async def list_plans(self) -> list[object]:
            self.reads += 1
            if self.reads == 1 and self.public is not None:
                self.public.clear()
            return []

    catalog = SlowCatalog()
    public = PublicCatalog(lambda: catalog, ttl=60)  # type: ignore[arg-type, return-value]
    catalog.public = public

    await public.plans(200, 0, None)
    await public.plans(200, 0, None)

    assert catalog.reads == 2
