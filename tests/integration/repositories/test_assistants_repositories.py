"""One contract for the assistant repositories: the in-memory fake and SQL on every database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest

from talia_core.assistants.definition import (
    MAX_INSTRUCTIONS_LENGTH,
    Assistant,
    AssistantVersion,
    Channel,
    Definition,
    Fallback,
    FallbackKind,
    Provider,
)
from talia_core.assistants.eval_sets import EvalSet, VersionReport
from talia_core.assistants.language import PromptRef
from talia_core.shared.errors import Conflict, NotFound
from talia_core.shared.money import Money
from talia_core.shared.pagination import PageRequest
from tests.conftest import UowFactory

T0 = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)
ADMIN = "0190a7a0-0000-7000-8000-000000000001"

EVERYTHING = Definition(
    provider=Provider.OPENAI,
    model="gpt-4.1-mini",
    instructions="Eres la asistente de {business_name}. Atiende de {hours}. 💍",
    prompt=PromptRef("pmpt_123", "4", {"tone": "cálido"}),
    variables={"business_name": "Invitaciones Olivo", "hours": "9:00 a 19:00"},
    temperature=0.7,
    max_output_tokens=800,
    max_tool_steps=6,
    tools=("handoff_to_human", "catalog_prices"),
    knowledge=("faq", "price-list"),
    handoffs=("sales",),
    channels=(Channel.WHATSAPP, Channel.WEBCHAT),
    fallback=Fallback(FallbackKind.MODEL, Provider.HUGGINGFACE, "Qwen/Qwen2.5-7B-Instruct"),
    daily_budget=Money(2_500, "USD"),
    voice_replies=True,
    voice="lucía",
)


def _assistant(name: str, *, channels: tuple[Channel, ...] = (), at: datetime = T0) -> Assistant:
    definition = Definition(
        provider=Provider.OFFLINE, model="rules", instructions="Answer politely.", channels=channels
    )
    return Assistant.create(name=name, definition=definition, by=ADMIN, at=at)


async def _add(uow_factory: UowFactory, *assistants: Assistant) -> None:
    async with uow_factory() as uow:
        for assistant in assistants:
            await uow.assistants.add(assistant)
        await uow.commit()


async def _revise(
    uow_factory: UowFactory,
    assistant_id: str,
    *,
    at: datetime = T0,
    report: VersionReport | None = None,
    rejected: str | None = None,
    **changes: Any,
) -> AssistantVersion:
    """The next version with ``changes``, stored as the admin stores it: live unless
    ``rejected``."""
    async with uow_factory() as uow:
        stored = await uow.assistants.get(assistant_id)
        draft = stored.draft(attrs.evolve(stored.definition, **changes), by=ADMIN, at=at)
        assert draft is not None
        version = attrs.evolve(draft, report=report, rejected=rejected)
        stored.adopt(version)
        await uow.assistants.add_version(version)
        await uow.assistants.update(stored)
        await uow.commit()
    return version


def _report(passed: int, failed: int, *failing: str) -> VersionReport:
    return VersionReport(passed, failed, T0 + timedelta(minutes=5), "a" * 64, failing)


async def test_an_assistant_reads_back_equal_with_every_setting(uow_factory: UowFactory) -> None:
    assistant = Assistant.create(name="front-desk", definition=EVERYTHING, by=ADMIN, at=T0)
    await _add(uow_factory, assistant)

    async with uow_factory(read_only=True) as uow:
        by_id = await uow.assistants.get(assistant.id)
        by_name = await uow.assistants.by_name("front-desk")

    assert by_id == assistant
    assert by_name == assistant
    assert by_id.definition.temperature == 0.7
    assert by_id.definition.channels == (Channel.WHATSAPP, Channel.WEBCHAT)
    assert by_id.definition.daily_budget == Money(2_500, "USD")


async def test_the_longest_instructions_are_kept_whole(uow_factory: UowFactory) -> None:
    text = "ñ" * MAX_INSTRUCTIONS_LENGTH  # two bytes each in UTF-8
    definition = attrs.evolve(EVERYTHING, instructions=text, prompt=None)
    assistant = Assistant.create(name="long", definition=definition, by=ADMIN, at=T0)
    await _add(uow_factory, assistant)

    async with uow_factory(read_only=True) as uow:
        assert (await uow.assistants.get(assistant.id)).definition.instructions == text


async def test_an_unknown_assistant_is_not_found(uow_factory: UowFactory) -> None:
    async with uow_factory(read_only=True) as uow:
        with pytest.raises(NotFound):
            await uow.assistants.get("0190a7a0-0000-7000-8000-00000000dead")
        assert await uow.assistants.by_name("nobody") is None


async def test_a_second_assistant_with_a_taken_name_is_a_conflict(uow_factory: UowFactory) -> None:
    await _add(uow_factory, _assistant("sales"))

    with pytest.raises(Conflict):
        await _add(uow_factory, _assistant("sales"))


async def test_a_revision_adds_a_version_and_keeps_the_earlier_ones(
    uow_factory: UowFactory,
) -> None:
    assistant = _assistant("sales")
    await _add(uow_factory, assistant)
    first = assistant.current

    await _revise(uow_factory, assistant.id, at=T0 + timedelta(hours=1), temperature=1.5)

    async with uow_factory(read_only=True) as uow:
        current = await uow.assistants.get(assistant.id)
        history = await uow.assistants.versions(assistant.id, PageRequest())

    assert current.version == 2
    assert current.definition.temperature == 1.5
    assert current.updated_at == T0 + timedelta(hours=1)
    assert current.created_at == T0
    assert [v.version for v in history.items] == [2, 1]
    assert history.items[1] == first
    assert history.total == 2


async def test_versions_come_in_pages_newest_first(uow_factory: UowFactory) -> None:
    assistant = _assistant("sales")
    await _add(uow_factory, assistant)
    for step in range(1, 4):
        await _revise(uow_factory, assistant.id, max_tool_steps=step + 1)

    async with uow_factory(read_only=True) as uow:
        page = await uow.assistants.versions(assistant.id, PageRequest(limit=2, offset=1))
        other = await uow.assistants.versions("0190a7a0-0000-7000-8000-00000000dead", PageRequest())

    assert [v.version for v in page.items] == [3, 2]
    assert page.total == 4
    assert other.total == 0


async def test_assistants_are_listed_newest_first_in_pages(uow_factory: UowFactory) -> None:
    names = ["alpha", "bravo", "charlie"]
    await _add(
        uow_factory,
        *(_assistant(n, at=T0 + timedelta(minutes=i)) for i, n in enumerate(names)),
    )

    async with uow_factory(read_only=True) as uow:
        first = await uow.assistants.find(PageRequest(limit=2))
        rest = await uow.assistants.find(PageRequest(limit=2, offset=2))

    assert [a.name for a in first.items] == ["charlie", "bravo"]
    assert [a.name for a in rest.items] == ["alpha"]
    assert first.total == rest.total == 3


async def test_a_channel_has_one_entry_assistant(uow_factory: UowFactory) -> None:
    front = _assistant("front-desk", channels=(Channel.WEBCHAT, Channel.WHATSAPP))
    await _add(uow_factory, front)

    with pytest.raises(Conflict):
        await _add(uow_factory, _assistant("sales", channels=(Channel.WHATSAPP,)))
    async with uow_factory(read_only=True) as uow:
        entry = await uow.assistants.entry_for(Channel.WHATSAPP)
        none = await uow.assistants.entry_for(Channel.TWILIO)

    assert entry is not None
    assert entry.id == front.id
    assert none is None


async def test_a_disabled_assistant_gives_its_channels_up(uow_factory: UowFactory) -> None:
    front = _assistant("front-desk", channels=(Channel.WEBCHAT,))
    await _add(uow_factory, front)
    await _revise(uow_factory, front.id, enabled=False)

    await _add(uow_factory, _assistant("new-desk", channels=(Channel.WEBCHAT,)))

    async with uow_factory(read_only=True) as uow:
        entry = await uow.assistants.entry_for(Channel.WEBCHAT)
    assert entry is not None
    assert entry.name == "new-desk"


async def test_a_rejected_version_is_listed_while_reads_give_the_live_one(
    uow_factory: UowFactory,
) -> None:
    assistant = _assistant("front-desk", channels=(Channel.WEBCHAT,))
    await _add(uow_factory, assistant)
    rejected = await _revise(
        uow_factory,
        assistant.id,
        instructions="Answer rudely.",
        channels=(Channel.WHATSAPP,),
        report=_report(1, 3, "saluda", "precios", "reclamo"),
        rejected="its pass rate is below the live version's",
    )

    async with uow_factory(read_only=True) as uow:
        by_id = await uow.assistants.get(assistant.id)
        by_name = await uow.assistants.by_name("front-desk")
        by_channel = await uow.assistants.entry_for(Channel.WEBCHAT)
        listed = await uow.assistants.find(PageRequest())
        history = await uow.assistants.versions(assistant.id, PageRequest())
        not_entry = await uow.assistants.entry_for(Channel.WHATSAPP)

    assert by_id == by_name == by_channel == listed.items[0]
    assert (by_id.version, by_id.newest) == (1, 2)
    assert by_id.definition.instructions == "Answer politely."
    assert not_entry is None
    assert history.items == [rejected, assistant.current]


async def test_a_versions_report_and_the_gate_flag_read_back_equal(
    uow_factory: UowFactory,
) -> None:
    assistant = _assistant("front-desk")
    await _add(uow_factory, assistant)
    first_report = _report(2, 2, "precios", "reclamo")
    async with uow_factory() as uow:
        stored = await uow.assistants.get(assistant.id)
        stored.require_eval = True
        stored.current = attrs.evolve(stored.current, report=first_report)
        await uow.assistants.update(stored)
        await uow.commit()
    second = await _revise(uow_factory, assistant.id, temperature=0.2, report=_report(4, 0))

    async with uow_factory(read_only=True) as uow:
        live = await uow.assistants.get(assistant.id)
        history = await uow.assistants.versions(assistant.id, PageRequest())

    assert live.require_eval is True
    assert live.current == second
    assert live.current.report == _report(4, 0)
    assert history.items[1].report == first_report


async def test_a_version_number_is_stored_once(uow_factory: UowFactory) -> None:
    assistant = _assistant("front-desk")
    await _add(uow_factory, assistant)

    with pytest.raises(Conflict):
        async with uow_factory() as uow:
            await uow.assistants.add_version(attrs.evolve(assistant.current, created_by=ADMIN))


async def test_an_eval_set_is_stored_whole_and_replaced_whole(uow_factory: UowFactory) -> None:
    assistant = _assistant("front-desk")
    await _add(uow_factory, assistant)
    case = {
        "name": "precios ñandú 💍",
        "messages": ["hola", ["precio", "del plan"]],
        "channel": "webchat",
        "expect": {"tools": [{"name": "catalog_prices", "arguments": {"kind": "plan", "n": 2}}]},
    }
    first = EvalSet(assistant.id, (case,), ADMIN, T0)
    second = EvalSet(assistant.id, ({**case, "name": "otro"}, case), ADMIN, T0 + timedelta(days=1))

    async with uow_factory(read_only=True) as uow:
        assert await uow.eval_sets.get(assistant.id) is None
    for eval_set in (first, second):
        async with uow_factory() as uow:
            await uow.eval_sets.put(eval_set)
            await uow.commit()
        async with uow_factory(read_only=True) as uow:
            stored = await uow.eval_sets.get(assistant.id)
        assert stored == eval_set
        assert stored is not None
        assert stored.digest == eval_set.digest
