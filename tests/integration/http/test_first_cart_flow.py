"""A customer's first cart made by two requests at once, on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import asyncio

from tests.api import Api
from tests.shop import plan, shop


async def test_two_requests_racing_to_make_the_first_cart_both_succeed_into_one_cart(
    api: Api,
) -> None:
    admin, plan_id = await shop(api)
    other_plan_id = await plan(api, admin, name="Otro plan")
    for _ in range(5):
        _, customer = await api.user()

        responses = await asyncio.gather(
            *(
                api.client.post(
                    "/api/cart/items", json={"plan_id": product, "quantity": 1}, headers=customer
                )
                for product in (plan_id, other_plan_id)
            )
        )

        assert [r.status_code for r in responses] == [201, 201], [r.text for r in responses]
        cart = (await api.client.get("/api/cart", headers=customer)).json()
        assert sorted(item["product_id"] for item in cart["items"]) == sorted(
            [plan_id, other_plan_id]
        )
        # The later of the two wrote into the cart the earlier one made.
        assert max(len(r.json()["items"]) for r in responses) == 2
