"""One contract for the catalog repositories: the in-memory fake and SQL on every database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from talia_core.catalog.model import Plan, PlanAllowances, Template
from talia_core.shared.errors import NotFound
from talia_core.shared.money import Money
from tests.conftest import UowFactory

T0 = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)


def _plan(name: str, amount: int, *, active: bool = True) -> Plan:
    return Plan.create(
        name=name,
        price=Money(amount, "PEN"),
        features=[f"{name} feature 1", "Unlimited guests"],
        active=active,
        at=T0,
    )


def _template(name: str, category: str, amount: int, *, active: bool = True) -> Template:
    return Template.create(
        name=name,
        category=category,
        price=Money(amount, "PEN"),
        preview_url=f"https://cdn.example.com/{name.lower()}.png",
        active=active,
        at=T0,
    )


async def _add(uow_factory: UowFactory, *entries: Plan | Template) -> None:
    async with uow_factory() as uow:
        for entry in entries:
            if isinstance(entry, Plan):
                await uow.plans.add(entry)
            else:
                await uow.templates.add(entry)
        await uow.commit()


async def test_a_plan_reads_back_equal_with_its_price_and_features(
    uow_factory: UowFactory,
) -> None:
    plan = _plan("Gold", 12_990)
    await _add(uow_factory, plan)
    async with uow_factory(read_only=True) as uow:
        stored = await uow.plans.get(plan.id)
    assert stored == plan
    assert stored.price == Money(12_990, "PEN")
    assert stored.features == ["Gold feature 1", "Unlimited guests"]


async def test_a_plan_without_features_reads_back_with_an_empty_list(
    uow_factory: UowFactory,
) -> None:
    plan = Plan.create(name="Bare", price=Money(0, "PEN"), features=[], active=False, at=T0)
    await _add(uow_factory, plan)
    async with uow_factory(read_only=True) as uow:
        assert await uow.plans.get(plan.id) == plan


async def test_a_revised_plan_is_stored_whole(uow_factory: UowFactory) -> None:
    plan = _plan("Gold", 12_990)
    await _add(uow_factory, plan)
    async with uow_factory() as uow:
        stored = await uow.plans.get(plan.id)
        stored.revise(
            at=T0 + timedelta(days=1),
            name="Gold Plus",
            price=Money(14_990, "PEN"),
            features=["Everything"],
            active=False,
        )
        await uow.plans.update(stored)
        await uow.commit()
    async with uow_factory(read_only=True) as uow:
        assert await uow.plans.get(plan.id) == stored


async def test_an_unknown_plan_is_not_found(uow_factory: UowFactory) -> None:
    async with uow_factory(read_only=True) as uow:
        with pytest.raises(NotFound):
            await uow.plans.get("no-such-plan")


async def test_a_removed_plan_is_gone_and_removing_it_again_is_not_found(
    uow_factory: UowFactory,
) -> None:
    plan = _plan("Gold", 12_990)
    await _add(uow_factory, plan)
    async with uow_factory() as uow:
        await uow.plans.remove(plan.id)
        await uow.commit()
    async with uow_factory() as uow:
        with pytest.raises(NotFound):
            await uow.plans.get(plan.id)
        with pytest.raises(NotFound):
            await uow.plans.remove(plan.id)


async def test_plans_list_cheapest_first_then_by_name(uow_factory: UowFactory) -> None:
    premium = _plan("Premium", 19_990)
    gold = _plan("Gold", 9_990)
    basic = _plan("Basic", 9_990)
    retired = _plan("Archive", 1_000, active=False)
    await _add(uow_factory, premium, gold, basic, retired)
    async with uow_factory(read_only=True) as uow:
        everything = await uow.plans.all(active_only=False)
        for_sale = await uow.plans.all(active_only=True)
    assert [p.name for p in everything] == ["Archive", "Basic", "Gold", "Premium"]
    assert [p.name for p in for_sale] == ["Basic", "Gold", "Premium"]


async def test_a_template_reads_back_equal_with_and_without_a_preview(
    uow_factory: UowFactory,
) -> None:
    with_preview = _template("Roses", "Weddings", 4_990)
    without = Template.create(
        name="Plain",
        category="birthdays",
        price=Money(990, "PEN"),
        preview_url=None,
        active=True,
        at=T0,
    )
    await _add(uow_factory, with_preview, without)
    async with uow_factory(read_only=True) as uow:
        assert await uow.templates.get(with_preview.id) == with_preview
        assert (await uow.templates.get(without.id)).preview_url is None
        assert await uow.templates.get(without.id) == without


async def test_a_revised_template_is_stored_whole(uow_factory: UowFactory) -> None:
    template = _template("Roses", "weddings", 4_990)
    await _add(uow_factory, template)
    async with uow_factory() as uow:
        stored = await uow.templates.get(template.id)
        stored.revise(
            at=T0 + timedelta(hours=3),
            name="Red Roses",
            category="Anniversaries",
            price=Money(5_990, "PEN"),
            preview_url="/previews/red-roses.png",
            active=False,
        )
        await uow.templates.update(stored)
        await uow.commit()
    async with uow_factory(read_only=True) as uow:
        assert await uow.templates.get(template.id) == stored


async def test_a_removed_template_is_gone_and_removing_it_again_is_not_found(
    uow_factory: UowFactory,
) -> None:
    template = _template("Roses", "weddings", 4_990)
    await _add(uow_factory, template)
    async with uow_factory() as uow:
        await uow.templates.remove(template.id)
        await uow.commit()
    async with uow_factory() as uow:
        with pytest.raises(NotFound):
            await uow.templates.get(template.id)
        with pytest.raises(NotFound):
            await uow.templates.remove(template.id)


async def test_templates_list_by_category_then_cheapest_then_by_name(
    uow_factory: UowFactory,
) -> None:
    await _add(
        uow_factory,
        _template("Roses", "weddings", 4_990),
        _template("Lilies", "weddings", 2_990),
        _template("Daisies", "weddings", 2_990),
        _template("Balloons", "birthdays", 9_990),
        _template("Confetti", "birthdays", 990, active=False),
    )
    async with uow_factory(read_only=True) as uow:
        everything = await uow.templates.all(active_only=False, category=None)
        for_sale = await uow.templates.all(active_only=True, category=None)
        weddings = await uow.templates.all(active_only=True, category="weddings")
        birthdays = await uow.templates.all(active_only=False, category="birthdays")
    assert [t.name for t in everything] == ["Confetti", "Balloons", "Daisies", "Lilies", "Roses"]
    assert [t.name for t in for_sale] == ["Balloons", "Daisies", "Lilies", "Roses"]
    assert [t.name for t in weddings] == ["Daisies", "Lilies", "Roses"]
    assert [t.name for t in birthdays] == ["Confetti", "Balloons"]


async def test_a_plans_allowances_and_a_templates_field_schema_read_back_equal(
    uow_factory: UowFactory,
) -> None:
    plan, template = _plan("Gold", 12_990), _template("Rosa", "bodas", 9_000)
    plan.revise(at=T0, allowances=PlanAllowances(guests=300, custom_slug=True))
    template.revise(at=T0, fields={"properties": {"honouree": {"type": "string"}}})
    plain = _template("Lila", "bodas", 8_000)
    await _add(uow_factory, plan, template, plain)
    async with uow_factory(read_only=True) as uow:
        assert await uow.plans.get(plan.id) == plan
        assert await uow.templates.get(template.id) == template
        assert (await uow.templates.get(plain.id)).fields is None
