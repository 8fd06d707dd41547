"""``order_status``: the conversation's own customer's orders, and nobody else's."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from adapters.tools.order_status import ITEMS_SHOWN, LATEST, NO_ACCOUNT
from talia_core.shared.errors import NotFound
from tests.unit.tools.conftest import World


async def test_the_customer_reads_their_latest_orders(world: World) -> None:
    ana = await world.customer("ana@shop.pe")
    plan = await world.shop.plan(15_000, name="Plan Básico")
    template = await world.shop.template(2_550, name="Floral")
    first = await world.shop.pending(ana, plan)
    world.shop.clock.advance(timedelta(days=3))
    second = await world.shop.paid(ana, template)

    answer = await world.call("order_status", await world.contact("ana@shop.pe"))

    assert answer == {
        "orders": [
            {
                "number": second.reference,
                "status": "paid",
                "total": {"amount": 2_550, "currency": "PEN", "display": "S/ 25.50"},
                "placed_on": "2026-01-04",
                "items": [{"name": "Floral", "quantity": 1}],
            },
            {
                "number": first.reference,
                "status": "pending",
                "total": {"amount": 15_000, "currency": "PEN", "display": "S/ 150.00"},
                "placed_on": "2026-01-01",
                "items": [{"name": "Plan Básico", "quantity": 1}],
            },
        ]
    }


@pytest.mark.parametrize("written", ["TA-000001", "ta-1", "TA1", "#1", "000001", " 1 "])
async def test_an_order_is_read_by_its_number_however_it_is_written(
    world: World, written: str
) -> None:
    ana = await world.customer("ana@shop.pe")
    order = await world.shop.pending(ana)
    assert order.number == 1

    answer = await world.call("order_status", await world.contact("ana@shop.pe"), number=written)

    assert answer["order"]["number"] == "TA-000001"
    assert answer["order"]["status"] == "pending"


async def test_another_customers_order_is_answered_like_one_that_does_not_exist(
    world: World,
) -> None:
    ana = await world.customer("ana@shop.pe")
    luis = await world.customer("luis@shop.pe")
    await world.shop.pending(ana)
    secret = await world.shop.plan(77_700, name="Plan Secreto")
    theirs = await world.shop.paid(luis, secret)
    ana_contact = await world.contact("ana@shop.pe")

    asked_for_theirs = await world.call("order_status", ana_contact, number=theirs.reference)
    asked_for_none = await world.call("order_status", ana_contact, number="TA-000999")
    listed = await world.call("order_status", ana_contact)

    assert asked_for_theirs == {"error": NotFound("order", theirs.reference).detail}
    assert asked_for_none == {"error": NotFound("order", "TA-000999").detail}
    said = json.dumps([asked_for_theirs, asked_for_none, listed], ensure_ascii=False)
    for their_data in (luis.id, "luis@shop.pe", "Plan Secreto", "777.00", "77700"):
        assert their_data not in said
    assert theirs.reference not in json.dumps(listed)


@pytest.mark.parametrize(
    "email", [None, "nobody@shop.pe", "not an address"], ids=["none", "no account", "malformed"]
)
async def test_without_a_known_account_no_order_is_read(world: World, email: str | None) -> None:
    ana = await world.customer("ana@shop.pe")
    order = await world.shop.pending(ana)
    contact = await world.contact(email)

    assert await world.call("order_status", contact) == NO_ACCOUNT
    assert await world.call("order_status", contact, number=order.reference) == NO_ACCOUNT


async def test_the_model_cannot_name_whose_orders_to_read(world: World) -> None:
    luis = await world.customer("luis@shop.pe")
    await world.shop.pending(luis)
    contact = await world.contact()

    answer = await world.call("order_status", contact, email="luis@shop.pe")

    assert answer == {"error": "bad arguments: arguments.email is not a known argument"}


@pytest.mark.parametrize(
    ("number", "answer"),
    [
        ("order one", {"error": "an order number looks like TA-000123"}),
        ("TA-0000000001", {"error": "an order number looks like TA-000123"}),
        ("1" * 21, {"error": "bad arguments: arguments.number must be at most 20 characters"}),
        (1, {"error": "bad arguments: arguments.number must be of type string"}),
    ],
)
async def test_a_number_that_is_no_order_number_is_answered_to_the_model(
    world: World, number: object, answer: dict[str, str]
) -> None:
    await world.customer("ana@shop.pe")

    said = await world.call("order_status", await world.contact("ana@shop.pe"), number=number)

    assert said == answer


async def test_a_long_history_is_cut_to_the_latest_orders_and_says_so(world: World) -> None:
    ana = await world.customer("ana@shop.pe")
    for _ in range(LATEST + 2):
        await world.shop.pending(ana)
        world.shop.clock.advance(timedelta(minutes=1))

    answer = await world.call("order_status", await world.contact("ana@shop.pe"))

    assert [order["number"] for order in answer["orders"]] == [
        f"TA-{number:06d}" for number in range(LATEST + 2, 2, -1)
    ]
    assert answer["note"] == f"the latest {LATEST} of {LATEST + 2} orders"


async def test_an_order_of_many_items_is_summed_up_by_its_first_ones(world: World) -> None:
    ana = await world.customer("ana@shop.pe")
    plans = [await world.shop.plan(name=f"Plan {index}") for index in range(ITEMS_SHOWN + 2)]
    order = await world.shop.pending(ana, *plans)

    answer = await world.call(
        "order_status", await world.contact("ana@shop.pe"), number=order.reference
    )

    assert len(answer["order"]["items"]) == ITEMS_SHOWN
    assert answer["order"]["more_items"] == 2
