"""``update_lead`` through the wired catalogue: facts a model gives land on the lead of the
conversation's own contact, scored by its assistant's criteria; wrong ones change nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from typing import Any

import pytest

from adapters.memory.unit_of_work import InMemoryUnitOfWork
from talia_core.assistants.definition import Assistant, Definition
from talia_core.assistants.tools import ToolContext
from talia_core.leads.model import Lead
from talia_core.leads.ports import LeadFilter
from talia_core.shared.pagination import PageRequest
from tests.unit.leads.builders import CRITERIA
from tests.unit.tools.conftest import World


@pytest.fixture
async def sales(world: World) -> ToolContext:
    """A web chat contact of the ``sales`` assistant, which holds the demo criteria."""
    definition = Definition(
        provider="openai", model="gpt-4.1-mini", instructions="Vende.", leads=CRITERIA
    )
    at = datetime(2026, 1, 1, tzinfo=UTC)
    assistant = Assistant.create(name="sales", definition=definition, by="admin", at=at)
    async with InMemoryUnitOfWork(world.database) as uow:
        await uow.assistants.add(assistant)
        await uow.commit()
    return await world.contact()


async def leads_of(world: World) -> list[Lead]:
    async with partial(InMemoryUnitOfWork, world.database)(read_only=True) as uow:
        return list((await uow.leads.find(PageRequest(), LeadFilter())).items)


async def test_facts_the_model_gives_land_on_the_contacts_lead(
    world: World, sales: ToolContext
) -> None:
    facts: dict[str, Any] = {"wedding_date": "2027-02-14", "guest_count": 120, "plan": "premium"}
    answer = await world.call("update_lead", sales, facts=facts)
    assert answer == {
        "recorded": ["guest_count", "plan", "wedding_date"],
        "stage": "qualified",
        "score": 60,
    }
    [lead] = await leads_of(world)
    assert (lead.contact_id, lead.facts) == (sales.contact_id, facts)


@pytest.mark.parametrize(
    "facts",
    [
        {"guest_count": "ciento veinte"},
        {"guest_count": 120.5},
        {"budget": True},
        {"wedding_date": "14 de febrero"},
        {"plan": "gold"},
        {"guest_count": 120, "budget": "S/ 2500"},
        {"colour": "blue"},
        {"plan": ["premium"]},
        {},
    ],
)
async def test_facts_of_the_wrong_type_are_a_tool_error_and_change_nothing(
    world: World, sales: ToolContext, facts: dict[str, Any]
) -> None:
    await world.call("update_lead", sales, facts={"guest_count": 80})
    answer = await world.call("update_lead", sales, facts=facts)
    assert "error" in answer
    [lead] = await leads_of(world)
    assert (lead.facts, lead.score) == ({"guest_count": 80}, 20)


async def test_arguments_without_facts_are_refused_before_the_tool_runs(
    world: World, sales: ToolContext
) -> None:
    answer = await world.call("update_lead", sales, guest_count=120)
    assert answer["error"].startswith("bad arguments")
    assert await leads_of(world) == []
