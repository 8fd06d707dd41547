"""The usage ledger on the in-memory unit of work: calls recorded once, budgets checked
before each call, reports priced with the table and unpriced models flagged."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any

import pytest

from adapters.memory.database import InMemoryDatabase
from adapters.memory.unit_of_work import InMemoryUnitOfWork
from talia_core.assistants.definition import Assistant, Definition
from talia_core.assistants.language import Usage
from talia_core.assistants.ledger import UsageLedger
from talia_core.assistants.prices import ModelPrice, PriceTable
from talia_core.assistants.usage import ModelCall, Outcome
from talia_core.shared.clock import FakeClock
from talia_core.shared.errors import RuleViolated
from talia_core.shared.money import Money
from talia_core.shared.pagination import PageRequest

NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
TODAY = NOON.date()
PRICES = PriceTable([ModelPrice("openai", "gpt-4.1-mini", 40, 160)])


def _assistant(name: str = "front-desk", **fields: Any) -> Assistant:
    definition = Definition(provider="openai", model="gpt-4.1-mini", instructions="Hi.", **fields)
    return Assistant.create(name=name, definition=definition, by="admin", at=NOON)


def _call(
    assistant: Assistant,
    tokens: tuple[int, int] = (1_000_000, 0),
    *,
    model: str = "gpt-4.1-mini",
    at: datetime = NOON,
    **fields: Any,
) -> ModelCall:
    return ModelCall.made(
        assistant, provider="openai", model=model, usage=Usage(*tokens), at=at, **fields
    )


async def _ledger(clock: FakeClock | None = None, prices: PriceTable = PRICES) -> UsageLedger:
    ledger = UsageLedger(partial(InMemoryUnitOfWork, InMemoryDatabase()), clock or FakeClock(NOON))
    await ledger.set_prices(prices)
    return ledger


async def test_a_call_recorded_twice_is_stored_once() -> None:
    ledger = await _ledger()
    call = _call(_assistant())

    await ledger.record(call)
    await ledger.record(call)

    calls = await ledger.calls(TODAY, TODAY, PageRequest())
    assert calls.items == [call]


async def test_calls_recorded_together_are_stored_and_one_recorded_before_is_kept_once() -> None:
    ledger = await _ledger()
    front = _assistant()
    first, second, third = (_call(front, (n, 0)) for n in (1, 2, 3))

    await ledger.record(first, second)
    await ledger.record(first, third)

    calls = await ledger.calls(TODAY, TODAY, PageRequest())
    assert sorted(c.input_tokens for c in calls.items) == [1, 2, 3]


async def test_the_report_sums_each_day_assistant_and_model_and_prices_the_sums() -> None:
    ledger = await _ledger()
    front, sales = _assistant(), _assistant("sales")
    for call in (
        _call(front, (600_000, 100_000)),
        _call(front, (400_000, 0), outcome=Outcome.FAILED, reason="openai timed out"),
        _call(sales, (1, 1)),
        _call(front, (5, 5), at=NOON - timedelta(days=1)),
    ):
        await ledger.record(call)

    report = await ledger.report(TODAY - timedelta(days=1), TODAY, PageRequest())

    rows = [(r.usage.day, r.usage.assistant_name, r.usage.calls, r.cost) for r in report.rows.items]
    assert rows == [
        (TODAY - timedelta(days=1), "front-desk", 1, Money(1, "USD")),
        (TODAY, "front-desk", 2, Money(56, "USD")),  # 40 + 16 cents
        (TODAY, "sales", 1, Money(1, "USD")),
    ]
    assert report.rows.items[1].usage.failed == 1
    assert report.totals.cost == Money(58, "USD")
    assert report.totals.priced


async def test_a_model_without_a_price_is_flagged_not_costed_at_zero() -> None:
    ledger = await _ledger()
    front = _assistant()
    await ledger.record(_call(front))
    await ledger.record(_call(front, model="gpt-5"))
    await ledger.record(_call(front, model="gpt-5"))

    report = await ledger.report(TODAY, TODAY, PageRequest())

    unpriced = [r for r in report.rows.items if r.usage.model == "gpt-5"]
    assert [(r.priced, r.cost) for r in unpriced] == [(False, None)]
    assert not report.totals.priced
    assert report.totals.unpriced_calls == 2
    assert report.totals.cost == Money(40, "USD")


async def test_a_report_filters_by_assistant_and_pages_its_rows_keeping_the_totals() -> None:
    ledger = await _ledger()
    front = _assistant()
    for days in range(3):
        await ledger.record(_call(front, at=NOON - timedelta(days=days)))
    await ledger.record(_call(_assistant("sales")))

    report = await ledger.report(
        TODAY - timedelta(days=2), TODAY, PageRequest(limit=2, offset=1), assistant="front-desk"
    )

    assert [r.usage.day for r in report.rows.items] == [TODAY - timedelta(days=1), TODAY]
    assert report.rows.total == 3
    assert report.totals.calls == 3


@pytest.mark.parametrize(
    ("first", "last"),
    [(TODAY, TODAY - timedelta(days=1)), (TODAY - timedelta(days=366), TODAY)],
)
async def test_a_period_backwards_or_over_a_year_is_refused(first: date, last: date) -> None:
    ledger = await _ledger()

    with pytest.raises(RuleViolated) as refused:
        await ledger.report(first, last, PageRequest())

    assert "to" in refused.value.fields


async def test_an_assistant_without_a_budget_may_always_call() -> None:
    ledger = await _ledger()
    front = _assistant()
    await ledger.record(_call(front, (10**8, 10**8)))

    check = await ledger.within_budget(front, provider="openai", model="gpt-5")

    assert check.allowed


async def test_the_budget_is_checked_before_the_call_that_would_pass_it() -> None:
    clock = FakeClock(NOON)
    ledger = await _ledger(clock)
    front = _assistant(daily_budget=Money(50, "USD"))

    await ledger.record(_call(front, (1_000_000, 0)))  # 40 cents
    under = await ledger.within_budget(front, provider="openai", model="gpt-4.1-mini")
    await ledger.record(_call(front, (250_000, 0)))  # 10 cents more: 50
    spent = await ledger.within_budget(front, provider="openai", model="gpt-4.1-mini")
    clock.advance(timedelta(days=1))
    tomorrow = await ledger.within_budget(front, provider="openai", model="gpt-4.1-mini")

    assert under.allowed
    assert not spent.allowed
    assert spent.reason == "daily budget of $0.50 spent ($0.50 today)"
    assert tomorrow.allowed


async def test_a_budget_counts_the_calls_not_recorded_yet_as_spent_today() -> None:
    ledger = await _ledger()
    front = _assistant(daily_budget=Money(50, "USD"))
    await ledger.record(_call(front, (1_000_000, 0)))  # 40 cents
    own = _call(front, (250_000, 0))  # 10 cents more: 50
    others = [
        _call(_assistant("sales"), (10**8, 0)),
        _call(front, (10**8, 0), at=NOON - timedelta(days=1)),
    ]

    before = await ledger.within_budget(
        front, provider="openai", model="gpt-4.1-mini", unrecorded=others
    )
    after = await ledger.within_budget(
        front, provider="openai", model="gpt-4.1-mini", unrecorded=[*others, own]
    )

    assert before.allowed
    assert not after.allowed


async def test_calls_not_recorded_yet_are_priced_in_the_sum_they_will_join() -> None:
    ledger = await _ledger()
    front = _assistant(daily_budget=Money(2, "USD"))
    await ledger.record(_call(front, (1, 0)))  # a fraction of a cent, rounded up to 1

    check = await ledger.within_budget(
        front, provider="openai", model="gpt-4.1-mini", unrecorded=[_call(front, (1, 0))]
    )

    assert check.allowed  # 2 tokens are 1 cent, not 1 + 1


async def test_a_budget_counts_only_its_own_assistant() -> None:
    ledger = await _ledger()
    front = _assistant(daily_budget=Money(50, "USD"))
    await ledger.record(_call(_assistant("sales"), (10**8, 0)))

    assert (await ledger.within_budget(front, provider="openai", model="gpt-4.1-mini")).allowed


async def test_a_zero_budget_stops_every_call() -> None:
    ledger = await _ledger()
    front = _assistant(daily_budget=Money(0, "USD"))

    check = await ledger.within_budget(front, provider="openai", model="gpt-4.1-mini")

    assert not check.allowed


async def test_a_budget_cannot_be_kept_with_a_model_that_has_no_price() -> None:
    ledger = await _ledger()
    front = _assistant(daily_budget=Money(5_000, "USD"))

    next_unpriced = await ledger.within_budget(front, provider="openai", model="gpt-5")
    await ledger.record(_call(front, model="gpt-5"))
    spent_unpriced = await ledger.within_budget(front, provider="openai", model="gpt-4.1-mini")

    assert not next_unpriced.allowed
    assert next_unpriced.reason is not None
    assert "no price" in next_unpriced.reason
    assert not spent_unpriced.allowed
    assert spent_unpriced.reason is not None
    assert "openai gpt-5" in spent_unpriced.reason


async def test_a_fall_back_is_recorded_with_its_reason_for_the_admins() -> None:
    ledger = await _ledger()
    front = _assistant(daily_budget=Money(0, "USD"))
    check = await ledger.within_budget(front, provider="openai", model="gpt-4.1-mini")

    await ledger.record(
        ModelCall.made(
            front,
            provider="openai",
            model="gpt-4.1-mini",
            usage=None,
            at=NOON,
            outcome=Outcome.FELL_BACK,
            reason=check.reason,
        )
    )

    fell_back = await ledger.calls(TODAY, TODAY, PageRequest(), outcome=Outcome.FELL_BACK)
    assert [(c.reason, c.input_tokens) for c in fell_back.items] == [(check.reason, 0)]
    assert (await ledger.calls(TODAY, TODAY, PageRequest(), outcome=Outcome.FAILED)).total == 0


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"outcome": Outcome.FAILED}, "reason"),
        ({"reason": "why not"}, "reason"),
        ({"reason": "x" * 301, "outcome": Outcome.FAILED}, "reason"),
        ({"provider": "acme"}, "provider"),
    ],
)
def test_a_call_says_why_only_when_it_did_not_answer(fields: dict[str, Any], field: str) -> None:
    values = {"provider": "openai", **fields}

    with pytest.raises(RuleViolated) as refused:
        ModelCall.made(_assistant(), model="gpt-4.1-mini", usage=Usage(1, 1), at=NOON, **values)

    assert field in refused.value.fields


def test_negative_tokens_are_refused() -> None:
    with pytest.raises(RuleViolated):
        _call(_assistant(), (-1, 0))


@pytest.mark.parametrize(
    ("budget", "field"),
    [(Money(500, "PEN"), "daily_budget.currency"), (Money(-1, "USD"), "daily_budget.amount")],
)
def test_a_daily_budget_is_in_us_cents_and_not_negative(budget: Money, field: str) -> None:
    with pytest.raises(RuleViolated) as refused:
        _assistant(daily_budget=budget)

    assert field in refused.value.fields


async def test_the_reason_of_many_unpriced_models_still_fits_a_record() -> None:
    ledger = await _ledger()
    front = _assistant(daily_budget=Money(5_000, "USD"))
    for n in range(5):
        await ledger.record(_call(front, model=f"{n}{'m' * 99}"))

    check = await ledger.within_budget(front, provider="openai", model="gpt-4.1-mini")
    await ledger.record(_call(front, (0, 0), outcome=Outcome.FELL_BACK, reason=check.reason))

    assert check.reason is not None
    assert check.reason.endswith("and 4 more: the daily budget cannot be kept")
