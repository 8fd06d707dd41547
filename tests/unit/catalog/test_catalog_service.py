"""Catalog use cases against the in-memory unit of work."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import pytest

from adapters.memory.database import InMemoryDatabase
from adapters.memory.unit_of_work import InMemoryUnitOfWork
from talia_core.catalog.model import MAX_FEATURES, MAX_PRICE
from talia_core.catalog.services import CatalogService
from talia_core.shared.clock import FakeClock
from talia_core.shared.errors import NotFound, RuleViolated
from talia_core.shared.money import Money


def pen(amount: int) -> Money:
    return Money(amount, "PEN")


@pytest.fixture
def database() -> InMemoryDatabase:
    return InMemoryDatabase()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def catalog(database: InMemoryDatabase, clock: FakeClock) -> CatalogService:
    return CatalogService(partial(InMemoryUnitOfWork, database), clock, currency="PEN")


# ----------------------------------------------------------------------------------- plans


async def test_a_created_plan_is_stored_as_given(catalog: CatalogService, clock: FakeClock) -> None:
    plan = await catalog.create_plan(
        name="  Celebration ", price=pen(5_000), features=[" RSVP ", "Gallery"]
    )
    stored = await catalog.get_plan(plan.id)
    assert stored.name == "Celebration"
    assert stored.price == pen(5_000)
    assert stored.features == ["RSVP", "Gallery"]
    assert stored.active is True
    assert stored.created_at == stored.updated_at == clock.now()


async def test_the_listing_shows_only_active_plans_cheapest_first(catalog: CatalogService) -> None:
    gold = await catalog.create_plan(name="Gold", price=pen(9_000), features=[])
    basic = await catalog.create_plan(name="Basic", price=pen(1_000), features=[])
    await catalog.create_plan(name="Hidden", price=pen(500), features=[], active=False)
    silver = await catalog.create_plan(name="Silver", price=pen(5_000), features=[])
    listed = await catalog.list_plans()
    assert [plan.id for plan in listed] == [basic.id, silver.id, gold.id]


async def test_plans_of_the_same_price_are_listed_by_name(catalog: CatalogService) -> None:
    zeta = await catalog.create_plan(name="Zeta", price=pen(1_000), features=[])
    alpha = await catalog.create_plan(name="Alpha", price=pen(1_000), features=[])
    assert [plan.id for plan in await catalog.list_plans()] == [alpha.id, zeta.id]


async def test_the_admin_listing_includes_switched_off_plans(catalog: CatalogService) -> None:
    hidden = await catalog.create_plan(name="Hidden", price=pen(500), features=[], active=False)
    shown = await catalog.create_plan(name="Shown", price=pen(900), features=[])
    listed = await catalog.list_plans(active_only=False)
    assert [plan.id for plan in listed] == [hidden.id, shown.id]


async def test_revising_a_plan_changes_only_the_given_fields(
    catalog: CatalogService, clock: FakeClock
) -> None:
    plan = await catalog.create_plan(name="Basic", price=pen(1_000), features=["RSVP"])
    created_at = clock.now()
    clock.advance(timedelta(hours=1))
    await catalog.update_plan(plan.id, price=pen(1_500))
    stored = await catalog.get_plan(plan.id)
    assert (stored.name, stored.price, stored.features, stored.active) == (
        "Basic",
        pen(1_500),
        ["RSVP"],
        True,
    )
    assert stored.created_at == created_at
    assert stored.updated_at == clock.now()


async def test_a_switched_off_plan_leaves_the_public_listing(catalog: CatalogService) -> None:
    plan = await catalog.create_plan(name="Basic", price=pen(1_000), features=[])
    await catalog.update_plan(plan.id, active=False)
    assert await catalog.list_plans() == []
    assert (await catalog.get_plan(plan.id)).active is False


async def test_a_deleted_plan_is_gone(catalog: CatalogService) -> None:
    plan = await catalog.create_plan(name="Basic", price=pen(1_000), features=[])
    await catalog.delete_plan(plan.id)
    with pytest.raises(NotFound):
        await catalog.get_plan(plan.id)
    assert await catalog.list_plans(active_only=False) == []


async def test_deleting_revising_or_reading_an_unknown_plan_is_not_found(
    catalog: CatalogService,
) -> None:
    with pytest.raises(NotFound):
        await catalog.delete_plan("nope")
    with pytest.raises(NotFound):
        await catalog.update_plan("nope", name="New")
    with pytest.raises(NotFound):
        await catalog.get_plan("nope")


async def test_a_plan_priced_in_another_currency_is_refused_and_nothing_is_stored(
    catalog: CatalogService,
) -> None:
    with pytest.raises(RuleViolated) as refused:
        await catalog.create_plan(name="Basic", price=Money(1_000, "USD"), features=[])
    assert refused.value.fields == {"price.currency": "must be PEN"}
    assert await catalog.list_plans(active_only=False) == []


async def test_repricing_a_plan_in_another_currency_is_refused_and_the_price_kept(
    catalog: CatalogService,
) -> None:
    plan = await catalog.create_plan(name="Basic", price=pen(1_000), features=[])
    with pytest.raises(RuleViolated):
        await catalog.update_plan(plan.id, price=Money(1_000, "USD"))
    assert (await catalog.get_plan(plan.id)).price == pen(1_000)


@pytest.mark.parametrize("amount", [-1, -5_000, MAX_PRICE + 1, 10**12])
async def test_a_negative_or_absurd_price_is_refused(catalog: CatalogService, amount: int) -> None:
    with pytest.raises(RuleViolated) as refused:
        await catalog.create_plan(name="Basic", price=pen(amount), features=[])
    assert refused.value.fields == {"price": "out of range"}
    with pytest.raises(RuleViolated):
        await catalog.create_template(name="Floral", category="weddings", price=pen(amount))
    assert await catalog.list_plans(active_only=False) == []
    assert await catalog.list_templates(active_only=False) == []


@pytest.mark.parametrize("amount", [0, 1, MAX_PRICE])
async def test_a_price_from_zero_to_the_maximum_is_accepted(
    catalog: CatalogService, amount: int
) -> None:
    plan = await catalog.create_plan(name="Basic", price=pen(amount), features=[])
    assert (await catalog.get_plan(plan.id)).price == pen(amount)


async def test_an_absurd_new_price_is_refused_and_the_old_one_kept(
    catalog: CatalogService,
) -> None:
    plan = await catalog.create_plan(name="Basic", price=pen(1_000), features=[])
    with pytest.raises(RuleViolated):
        await catalog.update_plan(plan.id, price=pen(MAX_PRICE + 1))
    assert (await catalog.get_plan(plan.id)).price == pen(1_000)


async def test_a_plan_lists_at_most_thirty_features(catalog: CatalogService) -> None:
    features = [f"feature {n}" for n in range(MAX_FEATURES)]
    plan = await catalog.create_plan(name="Full", price=pen(1_000), features=features)
    assert len((await catalog.get_plan(plan.id)).features) == MAX_FEATURES
    with pytest.raises(RuleViolated) as refused:
        await catalog.create_plan(name="Too full", price=pen(1_000), features=[*features, "one"])
    assert refused.value.fields == {"features": "too many"}
    with pytest.raises(RuleViolated):
        await catalog.update_plan(plan.id, features=[*features, "one more"])
    assert (await catalog.get_plan(plan.id)).features == features


@pytest.mark.parametrize("name", ["", "   ", "x" * 121, "bad\x00name"])
async def test_a_blank_overlong_or_garbled_plan_name_is_refused(
    catalog: CatalogService, name: str
) -> None:
    with pytest.raises(RuleViolated):
        await catalog.create_plan(name=name, price=pen(1_000), features=[])
    assert await catalog.list_plans(active_only=False) == []


async def test_a_blank_feature_is_refused(catalog: CatalogService) -> None:
    with pytest.raises(RuleViolated):
        await catalog.create_plan(name="Basic", price=pen(1_000), features=["RSVP", "  "])


# ------------------------------------------------------------------------------- templates


async def test_a_created_template_is_stored_with_its_category_in_lower_case(
    catalog: CatalogService,
) -> None:
    template = await catalog.create_template(
        name="Floral", category=" Weddings ", price=pen(3_000), preview_url="/previews/floral"
    )
    stored = await catalog.get_template(template.id)
    assert (stored.name, stored.category, stored.price, stored.preview_url, stored.active) == (
        "Floral",
        "weddings",
        pen(3_000),
        "/previews/floral",
        True,
    )


async def test_templates_are_listed_by_category_then_price_and_only_active_ones(
    catalog: CatalogService,
) -> None:
    wedding_dear = await catalog.create_template(name="Gold", category="weddings", price=pen(4_000))
    wedding_cheap = await catalog.create_template(
        name="Lace", category="weddings", price=pen(2_000)
    )
    birthday = await catalog.create_template(name="Balloons", category="birthdays", price=pen(9))
    await catalog.create_template(name="Retired", category="birthdays", price=pen(1), active=False)
    listed = await catalog.list_templates()
    assert [t.id for t in listed] == [birthday.id, wedding_cheap.id, wedding_dear.id]
    assert len(await catalog.list_templates(active_only=False)) == 4


async def test_templates_are_filtered_by_category_whatever_its_case(
    catalog: CatalogService,
) -> None:
    wedding = await catalog.create_template(name="Lace", category="weddings", price=pen(2_000))
    await catalog.create_template(name="Balloons", category="birthdays", price=pen(900))
    listed = await catalog.list_templates(category="WEDDINGS")
    assert [t.id for t in listed] == [wedding.id]
    assert await catalog.list_templates(category="baptisms") == []


async def test_revising_a_template_changes_only_the_given_fields(
    catalog: CatalogService, clock: FakeClock
) -> None:
    template = await catalog.create_template(
        name="Lace", category="weddings", price=pen(2_000), preview_url="https://cdn.test/lace"
    )
    clock.advance(timedelta(minutes=5))
    await catalog.update_template(template.id, category="Bodas", active=False)
    stored = await catalog.get_template(template.id)
    assert (stored.name, stored.category, stored.price, stored.preview_url, stored.active) == (
        "Lace",
        "bodas",
        pen(2_000),
        "https://cdn.test/lace",
        False,
    )
    assert stored.updated_at == clock.now() != stored.created_at


async def test_a_template_priced_in_another_currency_is_refused(catalog: CatalogService) -> None:
    with pytest.raises(RuleViolated):
        await catalog.create_template(name="Lace", category="weddings", price=Money(1, "USD"))
    template = await catalog.create_template(name="Lace", category="weddings", price=pen(2_000))
    with pytest.raises(RuleViolated):
        await catalog.update_template(template.id, price=Money(2_000, "USD"))
    assert [t.price for t in await catalog.list_templates(active_only=False)] == [pen(2_000)]


@pytest.mark.parametrize("url", ["ftp://cdn.test/lace", "javascript:alert(1)", "lace.png"])
async def test_a_preview_that_is_neither_a_web_address_nor_a_path_is_refused(
    catalog: CatalogService, url: str
) -> None:
    with pytest.raises(RuleViolated) as refused:
        await catalog.create_template(
            name="Lace", category="weddings", price=pen(2_000), preview_url=url
        )
    assert refused.value.fields == {"preview_url": "invalid"}


async def test_a_deleted_template_is_gone(catalog: CatalogService) -> None:
    template = await catalog.create_template(name="Lace", category="weddings", price=pen(2_000))
    await catalog.delete_template(template.id)
    with pytest.raises(NotFound):
        await catalog.get_template(template.id)
    with pytest.raises(NotFound):
        await catalog.delete_template(template.id)


async def test_revising_an_unknown_template_is_not_found(catalog: CatalogService) -> None:
    with pytest.raises(NotFound):
        await catalog.update_template("nope", name="New")
