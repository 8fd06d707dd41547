"""One contract for the usage repositories: the in-memory fake and SQL on every database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from talia_core.assistants.definition import Assistant, Definition, Provider
from talia_core.assistants.language import Usage
from talia_core.assistants.prices import ModelPrice, PriceTable
from talia_core.assistants.usage import DailyUsage, ModelCall, Outcome
from talia_core.shared.errors import Conflict
from talia_core.shared.pagination import PageRequest
from tests.conftest import UowFactory

# Just before midnight UTC: a call belongs to the UTC day of its instant.
LATE = datetime(2026, 3, 1, 23, 59, 59, 999999, tzinfo=UTC)
DAY = LATE.date()
NEXT = DAY + timedelta(days=1)
CONVERSATION = "0190a7a0-0000-7000-8000-0000000000c1"


def _assistant(name: str) -> Assistant:
    definition = Definition(provider="openai", model="gpt-4.1-mini", instructions="Hi.")
    return Assistant.create(name=name, definition=definition, by="admin", at=LATE)


FRONT, SALES = _assistant("front-desk"), _assistant("sales")


def _call(
    assistant: Assistant = FRONT,
    tokens: tuple[int, int] = (100, 20),
    *,
    at: datetime = LATE,
    provider: str = "openai",
    model: str = "gpt-4.1-mini",
    **fields: Any,
) -> ModelCall:
    return ModelCall.made(
        assistant, provider=provider, model=model, usage=Usage(*tokens), at=at, **fields
    )


async def _add(uow_factory: UowFactory, *calls: ModelCall) -> None:
    async with uow_factory() as uow:
        for call in calls:
            await uow.model_calls.add(call)
        await uow.commit()


async def test_a_call_reads_back_equal_with_every_field(uow_factory: UowFactory) -> None:
    call = _call(
        conversation_id=CONVERSATION,
        outcome=Outcome.FAILED,
        reason="openai answered 503: überlastet 💥",
    )
    await _add(uow_factory, call)

    async with uow_factory(read_only=True) as uow:
        page = await uow.model_calls.find(DAY, DAY, PageRequest())

    assert page.items == [call]
    assert page.items[0].day == DAY


async def test_a_call_is_stored_once_by_its_id(uow_factory: UowFactory) -> None:
    call = _call()
    await _add(uow_factory, call)

    with pytest.raises(Conflict):
        await _add(uow_factory, call)

    async with uow_factory(read_only=True) as uow:
        assert (await uow.model_calls.find(DAY, DAY, PageRequest())).total == 1


async def test_daily_sums_per_utc_day_assistant_provider_and_model(
    uow_factory: UowFactory,
) -> None:
    await _add(
        uow_factory,
        _call(FRONT, (100, 20)),
        _call(FRONT, (50, 0), outcome=Outcome.FAILED, reason="timed out"),
        _call(FRONT, (0, 0), outcome=Outcome.FELL_BACK, reason="budget spent"),
        _call(FRONT, (7, 3), provider="huggingface", model="qwen-7b"),
        _call(SALES, (1, 1)),
        _call(FRONT, (9, 9), at=LATE + timedelta(microseconds=1)),
        _call(FRONT, (8, 8), at=LATE - timedelta(days=1)),
    )

    async with uow_factory(read_only=True) as uow:
        daily = await uow.model_calls.daily(DAY, NEXT)
        front_only = await uow.model_calls.daily(DAY, DAY, "front-desk")

    assert [(u.day, u.assistant_name, u.provider, u.model) for u in daily] == [
        (DAY, "front-desk", Provider.HUGGINGFACE, "qwen-7b"),
        (DAY, "front-desk", Provider.OPENAI, "gpt-4.1-mini"),
        (DAY, "sales", Provider.OPENAI, "gpt-4.1-mini"),
        (NEXT, "front-desk", Provider.OPENAI, "gpt-4.1-mini"),
    ]
    assert daily[0] == DailyUsage(
        DAY, FRONT.id, "front-desk", Provider.HUGGINGFACE, "qwen-7b", 1, 0, 0, 7, 3
    )
    assert daily[1] == DailyUsage(
        DAY, FRONT.id, "front-desk", Provider.OPENAI, "gpt-4.1-mini", 3, 1, 1, 150, 20
    )
    assert [u.assistant_name for u in front_only] == ["front-desk", "front-desk"]


async def test_calls_are_found_newest_first_by_assistant_and_outcome(
    uow_factory: UowFactory,
) -> None:
    older = _call(at=LATE - timedelta(hours=1))
    failed = _call(outcome=Outcome.FAILED, reason="refused")
    other = _call(SALES, at=LATE - timedelta(minutes=1))
    await _add(uow_factory, older, failed, other, _call(at=LATE + timedelta(days=2)))

    async with uow_factory(read_only=True) as uow:
        everything = await uow.model_calls.find(DAY, DAY, PageRequest())
        second = await uow.model_calls.find(DAY, DAY, PageRequest(limit=1, offset=1))
        front = await uow.model_calls.find(DAY, DAY, PageRequest(), assistant="front-desk")
        failures = await uow.model_calls.find(DAY, NEXT, PageRequest(), outcome=Outcome.FAILED)

    assert everything.items == [failed, other, older]
    assert (second.items, second.total) == ([other], 3)
    assert front.items == [failed, older]
    assert failures.items == [failed]


async def test_the_price_table_is_replaced_whole(uow_factory: UowFactory) -> None:
    first = PriceTable(
        [
            ModelPrice("openai", "gpt-4.1", 200, 800),
            ModelPrice("huggingface", "meta-llama/Llama-3.1-8B-Instruct", 2, 5),
        ]
    )
    second = PriceTable([ModelPrice("openai", "gpt-4.1-mini", 40, 160)])

    async with uow_factory(read_only=True) as uow:
        empty = await uow.model_prices.table()
    for table in (first, second):
        async with uow_factory() as uow:
            await uow.model_prices.replace(table)
            await uow.commit()
            assert await uow.model_prices.table() == table

    async with uow_factory(read_only=True) as uow:
        assert await uow.model_prices.table() == second
    assert empty == PriceTable()
