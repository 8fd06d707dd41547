"""The cart: references and quantities, priced from the catalog whenever it is looked at."""

from __future__ import annotations

from datetime import timedelta

import pytest

from talia_core.commerce.cart import MAX_QUANTITY
from talia_core.commerce.cart_service import CartService
from talia_core.commerce.products import ProductKind, ProductRef
from talia_core.shared.clock import FakeClock
from talia_core.shared.errors import NotFound, RuleViolated
from tests.unit.commerce.builders import ANA, LUIS, Shop, pen, ref


async def test_a_customer_who_never_had_a_cart_sees_an_empty_one(carts: CartService) -> None:
    priced = await carts.view(ANA.id)
    assert priced.cart.is_empty
    assert priced.cart.updated_at is None
    assert priced.subtotal == pen(0)


async def test_adding_a_product_already_in_the_cart_raises_its_quantity(shop: Shop) -> None:
    plan = await shop.plan(5_000)
    await shop.carts.add_item(ANA.id, ref(plan), 2)
    priced = await shop.carts.add_item(ANA.id, ref(plan), 3)
    assert [(item.ref, item.quantity) for item in priced.cart.items] == [(ref(plan), 5)]
    assert priced.subtotal == pen(25_000)
    assert await shop.cart_refs(ANA) == [(ref(plan), 5)]


async def test_a_plan_and_a_template_are_separate_lines(shop: Shop) -> None:
    plan, template = await shop.plan(5_000), await shop.template(3_000)
    await shop.fill(ANA, plan, template, quantity=2)
    assert await shop.cart_refs(ANA) == [(ref(plan), 2), (ref(template), 2)]
    assert (await shop.carts.view(ANA.id)).subtotal == pen(16_000)


async def test_adding_stamps_the_cart_with_the_time(shop: Shop, clock: FakeClock) -> None:
    plan = await shop.plan()
    await shop.fill(ANA, plan)
    clock.advance(timedelta(minutes=3))
    await shop.fill(ANA, plan)
    assert (await shop.carts.view(ANA.id)).cart.updated_at == clock.now()


async def test_each_customer_has_a_cart_of_their_own(shop: Shop) -> None:
    plan, template = await shop.plan(), await shop.template()
    await shop.fill(ANA, plan)
    await shop.fill(LUIS, template)
    assert await shop.cart_refs(ANA) == [(ref(plan), 1)]
    assert await shop.cart_refs(LUIS) == [(ref(template), 1)]


@pytest.mark.parametrize("quantity", [0, -1, MAX_QUANTITY + 1, True])
async def test_a_quantity_outside_one_to_a_hundred_is_refused_and_nothing_is_stored(
    shop: Shop, quantity: int
) -> None:
    plan = await shop.plan()
    with pytest.raises(RuleViolated) as refused:
        await shop.carts.add_item(ANA.id, ref(plan), quantity)
    assert refused.value.fields == {"quantity": "out of range"}
    assert await shop.cart_refs(ANA) == []


async def test_a_hundred_of_one_product_is_the_most_a_cart_holds(shop: Shop) -> None:
    plan = await shop.plan()
    await shop.carts.add_item(ANA.id, ref(plan), 60)
    with pytest.raises(RuleViolated):
        await shop.carts.add_item(ANA.id, ref(plan), 41)
    assert await shop.cart_refs(ANA) == [(ref(plan), 60)]
    await shop.carts.add_item(ANA.id, ref(plan), 40)
    assert await shop.cart_refs(ANA) == [(ref(plan), MAX_QUANTITY)]


@pytest.mark.parametrize("kind", list(ProductKind))
async def test_an_unknown_product_is_refused_and_nothing_is_stored(
    shop: Shop, kind: ProductKind
) -> None:
    with pytest.raises(RuleViolated) as refused:
        await shop.carts.add_item(ANA.id, ProductRef(kind, "no-such-id"), 1)
    assert refused.value.fields == {f"{kind.value}_id": "unknown"}
    assert await shop.cart_refs(ANA) == []


async def test_a_switched_off_product_cannot_be_added(shop: Shop) -> None:
    plan = await shop.plan(active=False)
    template = await shop.template(active=False)
    for product in (plan, template):
        with pytest.raises(RuleViolated):
            await shop.fill(ANA, product)
    assert await shop.cart_refs(ANA) == []


async def test_a_refused_product_leaves_the_rest_of_the_cart_as_it_was(shop: Shop) -> None:
    plan = await shop.plan()
    await shop.fill(ANA, plan)
    with pytest.raises(RuleViolated):
        await shop.fill(ANA, await shop.template(active=False))
    assert await shop.cart_refs(ANA) == [(ref(plan), 1)]


async def test_removing_an_item_takes_it_out_of_the_cart(shop: Shop) -> None:
    plan, template = await shop.plan(), await shop.template()
    await shop.fill(ANA, plan, template)
    item = (await shop.carts.view(ANA.id)).cart.items[0]
    priced = await shop.carts.remove_item(ANA.id, item.id)
    assert [i.ref for i in priced.cart.items] == [ref(template)]
    assert await shop.cart_refs(ANA) == [(ref(template), 1)]


async def test_removing_an_item_that_is_not_in_the_cart_is_not_found(shop: Shop) -> None:
    with pytest.raises(NotFound):
        await shop.carts.remove_item(ANA.id, "no-such-item")
    plan = await shop.plan()
    await shop.fill(ANA, plan)
    with pytest.raises(NotFound):
        await shop.carts.remove_item(ANA.id, "no-such-item")
    assert await shop.cart_refs(ANA) == [(ref(plan), 1)]


async def test_another_customers_item_cannot_be_removed(shop: Shop) -> None:
    plan = await shop.plan()
    await shop.fill(ANA, plan)
    await shop.fill(LUIS, plan)
    anas_item = (await shop.carts.view(ANA.id)).cart.items[0]
    with pytest.raises(NotFound):
        await shop.carts.remove_item(LUIS.id, anas_item.id)
    assert await shop.cart_refs(ANA) == [(ref(plan), 1)]
    assert await shop.cart_refs(LUIS) == [(ref(plan), 1)]


async def test_the_cart_shows_the_price_the_catalog_asks_now(shop: Shop) -> None:
    plan = await shop.plan(5_000, name="Celebration")
    await shop.fill(ANA, plan, quantity=2)
    await shop.catalog.update_plan(plan.id, price=pen(4_000), name="Party")
    priced = await shop.carts.view(ANA.id)
    line = priced.lines[0].line
    assert line is not None
    assert (line.name, line.unit_price, line.total) == ("Party", pen(4_000), pen(8_000))
    assert priced.subtotal == pen(8_000)


async def test_a_deleted_product_shows_as_unavailable_and_costs_nothing(shop: Shop) -> None:
    plan, template = await shop.plan(5_000), await shop.template(3_000)
    await shop.fill(ANA, plan, template)
    await shop.catalog.delete_plan(plan.id)
    priced = await shop.carts.view(ANA.id)
    gone = priced.lines[0]
    assert (gone.item.ref, gone.available, gone.product) == (ref(plan), False, None)
    assert [cl.available for cl in priced.lines] == [False, True]
    assert priced.lines[0].line is None
    assert priced.subtotal == pen(3_000)


async def test_a_switched_off_product_in_the_cart_shows_as_unavailable(shop: Shop) -> None:
    plan = await shop.plan(5_000)
    await shop.fill(ANA, plan)
    await shop.catalog.update_plan(plan.id, active=False)
    priced = await shop.carts.view(ANA.id)
    assert [cl.available for cl in priced.lines] == [False]
    assert priced.subtotal == pen(0)
