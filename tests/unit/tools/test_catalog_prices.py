"""``catalog_prices``: what is on sale and for how much, narrowed as the model asks."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.tools.catalog_prices import MAX_ITEMS
from adapters.tools.money import displayed
from talia_core.shared.money import Money
from tests.unit.commerce.builders import pen
from tests.unit.tools.conftest import World


async def _seed(world: World) -> None:
    catalog = world.shop.catalog
    await catalog.create_plan(name="Plan Básico", price=pen(15_000), features=["RSVP"])
    await catalog.create_plan(name="Plan Premium", price=pen(35_050), features=["RSVP", "Música"])
    await catalog.create_plan(name="Plan Retirado", price=pen(9_900), features=[], active=False)
    await catalog.create_template(name="Floral", category="bodas", price=pen(3_000))
    await catalog.create_template(name="Globos", category="Cumpleaños", price=pen(2_500))


async def test_the_active_plans_and_templates_are_listed_with_their_prices(world: World) -> None:
    await _seed(world)

    answer = await world.call("catalog_prices")

    assert answer == {
        "items": [
            {
                "kind": "plan",
                "name": "Plan Básico",
                "features": ["RSVP"],
                "price": {"amount": 15_000, "currency": "PEN", "display": "S/ 150.00"},
            },
            {
                "kind": "plan",
                "name": "Plan Premium",
                "features": ["RSVP", "Música"],
                "price": {"amount": 35_050, "currency": "PEN", "display": "S/ 350.50"},
            },
            {
                "kind": "template",
                "name": "Floral",
                "category": "bodas",
                "price": {"amount": 3_000, "currency": "PEN", "display": "S/ 30.00"},
            },
            {
                "kind": "template",
                "name": "Globos",
                "category": "cumpleaños",
                "price": {"amount": 2_500, "currency": "PEN", "display": "S/ 25.00"},
            },
        ]
    }


async def test_the_kind_narrows_the_list(world: World) -> None:
    await _seed(world)

    plans = await world.call("catalog_prices", kind="plan")
    templates = await world.call("catalog_prices", kind="template")

    assert [item["name"] for item in plans["items"]] == ["Plan Básico", "Plan Premium"]
    assert [item["name"] for item in templates["items"]] == ["Floral", "Globos"]


@pytest.mark.parametrize("category", ["cumpleaños", "CUMPLEANOS", "Cumpleanos"])
async def test_a_category_matches_templates_whatever_its_case_and_accents(
    world: World, category: str
) -> None:
    await _seed(world)

    answer = await world.call("catalog_prices", category=category)

    assert [item["name"] for item in answer["items"]] == ["Globos"]


@pytest.mark.parametrize("name", ["básico", "BASICO", "plan basi"])
async def test_a_name_matches_part_of_a_name_whatever_its_case_and_accents(
    world: World, name: str
) -> None:
    await _seed(world)

    answer = await world.call("catalog_prices", name=name)

    assert [item["name"] for item in answer["items"]] == ["Plan Básico"]


async def test_nothing_matching_is_an_empty_list(world: World) -> None:
    await _seed(world)

    assert await world.call("catalog_prices", kind="plan", name="Retirado") == {"items": []}


async def test_a_long_catalog_is_cut_and_the_answer_says_so(world: World) -> None:
    for index in range(MAX_ITEMS + 3):
        await world.shop.plan(1_000 + index, name=f"Plan {index:02d}")

    answer = await world.call("catalog_prices")

    assert len(answer["items"]) == MAX_ITEMS
    assert answer["note"] == (
        f"{MAX_ITEMS} of {MAX_ITEMS + 3} products shown: "
        "narrow by kind, category or name to see the others"
    )


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        ({"kind": "combo"}, 'arguments.kind must be one of "plan", "template"'),
        ({"category": ""}, "arguments.category must be at least 1 characters"),
        ({"name": "x" * 121}, "arguments.name must be at most 120 characters"),
        ({"price_below": 100}, "arguments.price_below is not a known argument"),
    ],
)
async def test_bad_arguments_are_answered_to_the_model(
    world: World, arguments: dict[str, Any], problem: str
) -> None:
    answer = await world.call("catalog_prices", **arguments)

    assert answer == {"error": f"bad arguments: {problem}"}


@pytest.mark.parametrize(
    ("money", "shown"),
    [
        (Money(15_000, "PEN"), "S/ 150.00"),
        (Money(5, "PEN"), "S/ 0.05"),
        (Money(123_456_789, "PEN"), "S/ 1,234,567.89"),
        (Money(-250, "USD"), "-US$ 2.50"),
        (Money(99, "GBP"), "GBP 0.99"),
        (Money(1_500, "JPY"), "JPY 1,500"),
        (Money(1_234, "KWD"), "KWD 1.234"),
    ],
)
def test_money_is_shown_from_its_minor_units_with_the_currencys_decimals(
    money: Money, shown: str
) -> None:
    assert displayed(money) == shown
