"""The admins' use cases against the in-memory unit of work."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from functools import partial
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.memory.database import InMemoryDatabase
from adapters.memory.unit_of_work import InMemoryUnitOfWork
from talia_core.assistants.admin import AssistantAdmin
from talia_core.assistants.capabilities import Capabilities
from talia_core.assistants.definition import Channel, Definition
from talia_core.shared.clock import FakeClock
from talia_core.shared.errors import Conflict, NotFound, RuleViolated
from talia_core.shared.pagination import PageRequest
from tests.unit.assistants import builders

ADMIN = "admin-1"
CAPABILITIES = Capabilities(
    tools=frozenset({"handoff_to_human", "transfer_to_assistant"}),
    models={"offline": ["rules"], "openai": ["gpt-4.1", "gpt-4.1-mini"]},
)


def _admin(clock: FakeClock | None = None) -> AssistantAdmin:
    return builders.admin(
        partial(InMemoryUnitOfWork, InMemoryDatabase()), clock or FakeClock(), CAPABILITIES
    )


def _definition(**fields: Any) -> Definition:
    return Definition(**{"provider": "offline", "model": "rules", "instructions": "Hi.", **fields})


async def _names(admin: AssistantAdmin) -> list[str]:
    return [a.name for a in (await admin.list(PageRequest())).items]


async def test_an_assistant_is_created_at_version_1_by_its_admin() -> None:
    clock = FakeClock()
    admin = _admin(clock)

    created = await admin.create("front-desk", _definition(), by=ADMIN)

    stored = await admin.get(created.id)
    assert stored == created
    assert stored.version == 1
    assert stored.current.created_by == ADMIN
    assert stored.updated_at == clock.now()


async def test_a_revision_is_the_next_version_by_whoever_made_it() -> None:
    clock = FakeClock()
    admin = _admin(clock)
    created = await admin.create("front-desk", _definition(), by=ADMIN)
    clock.advance(timedelta(minutes=5))

    revised = await admin.revise(created.id, {"temperature": 0.4}, by="admin-2")

    assert revised.version == 2
    assert revised.definition.temperature == 0.4
    assert revised.current.created_by == "admin-2"
    assert revised.created_at == created.created_at
    assert revised.updated_at == clock.now()
    history = await admin.versions(created.id, PageRequest())
    assert [v.version for v in history.items] == [2, 1]
    assert history.items[1] == created.current


async def test_a_taken_name_is_a_conflict() -> None:
    admin = _admin()
    await admin.create("front-desk", _definition(), by=ADMIN)

    with pytest.raises(Conflict):
        await admin.create("front-desk", _definition(), by=ADMIN)


@pytest.mark.parametrize(
    ("field", "fields"),
    [
        pytest.param("provider", {"provider": "huggingface", "model": "x"}, id="unavailable"),
        pytest.param("model", {"model": "gpt-0"}, id="unknown-model"),
        pytest.param("tools", {"tools": ["catalog_prices"]}, id="unknown-tool"),
        pytest.param("handoffs", {"handoffs": ["sales"]}, id="unknown-target"),
    ],
)
async def test_a_definition_naming_what_does_not_exist_is_refused_and_not_stored(
    field: str, fields: dict[str, Any]
) -> None:
    admin = _admin()

    with pytest.raises(RuleViolated) as refused:
        await admin.create("front-desk", _definition(**fields), by=ADMIN)

    assert field in refused.value.fields
    assert await _names(admin) == []


async def test_a_bad_revision_changes_nothing() -> None:
    admin = _admin()
    created = await admin.create("front-desk", _definition(), by=ADMIN)

    with pytest.raises(RuleViolated):
        await admin.revise(created.id, {"tools": ["send_money"]}, by=ADMIN)

    assert await admin.get(created.id) == created
    assert (await admin.versions(created.id, PageRequest())).total == 1


async def test_an_assistant_hands_off_to_assistants_that_exist() -> None:
    admin = _admin()
    sales = await admin.create("sales", _definition(), by=ADMIN)
    front = await admin.create("front-desk", _definition(handoffs=["sales"]), by=ADMIN)

    # Once both exist, each may name the other.
    revised = await admin.revise(sales.id, {"handoffs": ["front-desk"]}, by=ADMIN)

    assert front.definition.handoffs == ("sales",)
    assert revised.definition.handoffs == ("front-desk",)


async def test_each_channel_has_one_enabled_entry_assistant() -> None:
    admin = _admin()
    front = await admin.create("front-desk", _definition(channels=["webchat"]), by=ADMIN)

    with pytest.raises(Conflict, match="webchat"):
        await admin.create("sales", _definition(channels=["webchat"]), by=ADMIN)
    await admin.create("night-desk", _definition(channels=["webchat"], enabled=False), by=ADMIN)
    await admin.revise(front.id, {"enabled": False}, by=ADMIN)
    night = await admin.create("late-desk", _definition(channels=[Channel.WEBCHAT]), by=ADMIN)

    assert night.definition.entry_channels == (Channel.WEBCHAT,)


async def test_an_unknown_assistant_is_not_found() -> None:
    admin = _admin()

    with pytest.raises(NotFound):
        await admin.get("nobody")
    with pytest.raises(NotFound):
        await admin.revise("nobody", {"enabled": False}, by=ADMIN)
    with pytest.raises(NotFound):
        await admin.versions("nobody", PageRequest())


CHANGES = st.fixed_dictionaries(
    {},
    optional={
        "model": st.sampled_from(["gpt-4.1", "gpt-4.1-mini"]),
        "temperature": st.one_of(st.none(), st.sampled_from([0.0, 0.5, 2.0])),
        "enabled": st.booleans(),
        "tools": st.sampled_from([(), ("handoff_to_human",)]),
    },
)


@settings(max_examples=40, deadline=None)
@given(st.lists(CHANGES, max_size=8))
def test_revising_never_loses_or_alters_an_earlier_version(
    revisions: list[dict[str, Any]],
) -> None:
    async def scenario() -> None:
        admin = _admin()
        assistant = await admin.create(
            "front-desk", _definition(provider="openai", model="gpt-4.1"), by=ADMIN
        )
        seen = [assistant.current]
        for changes in revisions:
            assistant = await admin.revise(assistant.id, changes, by=ADMIN)
            if assistant.current != seen[-1]:
                seen.append(assistant.current)
            history = await admin.versions(assistant.id, PageRequest(limit=200))
            assert list(reversed(history.items)) == seen
            assert [v.version for v in seen] == list(range(1, len(seen) + 1))

    asyncio.run(scenario())
