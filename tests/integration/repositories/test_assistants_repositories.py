"""One contract for the assistant repositories: the in-memory fake and SQL on every database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs
import pytest

from talia_core.assistants.definition import (
    MAX_INSTRUCTIONS_LENGTH,
    Assistant,
    Channel,
    Definition,
    Fallback,
    FallbackKind,
    Provider,
)
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

    async with uow_factory() as uow:
        stored = await uow.assistants.get(assistant.id)
        stored.revise(
            attrs.evolve(stored.definition, temperature=1.5),
            by=ADMIN,
            at=T0 + timedelta(hours=1),
        )
        await uow.assistants.update(stored)
        await uow.commit()

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
        async with uow_factory() as uow:
            stored = await uow.assistants.get(assistant.id)
            stored.revise(attrs.evolve(stored.definition, max_tool_steps=step + 1), by=ADMIN, at=T0)
            await uow.assistants.update(stored)
            await uow.commit()

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
    async with uow_factory() as uow:
        stored = await uow.assistants.get(front.id)
        stored.revise(attrs.evolve(stored.definition, enabled=False), by=ADMIN, at=T0)
        await uow.assistants.update(stored)
        await uow.commit()

    await _add(uow_factory, _assistant("new-desk", channels=(Channel.WEBCHAT,)))

    async with uow_factory(read_only=True) as uow:
        entry = await uow.assistants.entry_for(Channel.WEBCHAT)
    assert entry is not None
    assert entry.name == "new-desk"
