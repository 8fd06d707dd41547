"""What tokens cost: integers all the way, rounded up, and never zero for want of a price."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from talia_core.assistants.definition import Provider
from talia_core.assistants.prices import MAX_PRICE_PER_MILLION, ModelPrice, PriceTable
from talia_core.shared.errors import RuleViolated
from talia_core.shared.money import Money

tokens = st.integers(min_value=0, max_value=10**9)
prices = st.integers(min_value=0, max_value=MAX_PRICE_PER_MILLION)


def _table(input_price: int = 40, output_price: int = 160) -> PriceTable:
    return PriceTable([ModelPrice("openai", "gpt-4.1-mini", input_price, output_price)])


def test_a_million_tokens_cost_the_price_and_a_fraction_of_a_cent_is_a_cent() -> None:
    table = _table()

    assert table.cost(Provider.OPENAI, "gpt-4.1-mini", 1_000_000, 0) == Money(40, "USD")
    assert table.cost(Provider.OPENAI, "gpt-4.1-mini", 1_000_000, 500_000) == Money(120, "USD")
    assert table.cost(Provider.OPENAI, "gpt-4.1-mini", 1, 0) == Money(1, "USD")
    assert table.cost(Provider.OPENAI, "gpt-4.1-mini", 0, 0) == Money(0, "USD")


@given(tokens, tokens, prices, prices)
def test_a_cost_is_never_negative_nor_less_than_the_exact_one(
    input_tokens: int, output_tokens: int, input_price: int, output_price: int
) -> None:
    cost = _table(input_price, output_price).cost(
        Provider.OPENAI, "gpt-4.1-mini", input_tokens, output_tokens
    )

    assert cost is not None
    exact_micro_cents = input_tokens * input_price + output_tokens * output_price
    assert 0 <= cost.amount * 1_000_000 - exact_micro_cents < 1_000_000


@given(tokens, tokens, st.integers(0, 10**6), st.integers(0, 10**6), prices, prices)
def test_more_tokens_never_cost_less(
    input_tokens: int,
    output_tokens: int,
    more_in: int,
    more_out: int,
    input_price: int,
    output_price: int,
) -> None:
    table = _table(input_price, output_price)
    cost = table.cost(Provider.OPENAI, "gpt-4.1-mini", input_tokens, output_tokens)
    more = table.cost(
        Provider.OPENAI, "gpt-4.1-mini", input_tokens + more_in, output_tokens + more_out
    )

    assert cost is not None
    assert more is not None
    assert cost <= more


@given(tokens, tokens)
def test_a_model_missing_from_the_table_has_no_cost_never_zero(
    input_tokens: int, output_tokens: int
) -> None:
    assert _table().cost(Provider.OPENAI, "gpt-5", input_tokens, output_tokens) is None
    assert PriceTable().cost(Provider.HUGGINGFACE, "x", input_tokens, output_tokens) is None


def test_the_offline_assistant_is_free_without_a_price() -> None:
    assert PriceTable().cost(Provider.OFFLINE, "rules", 10_000, 10_000) == Money(0, "USD")


@pytest.mark.parametrize(
    ("prices", "field"),
    [
        pytest.param(
            [("openai", "gpt-4.1", 200, 800), ("openai", "gpt-4.1", 100, 400)],
            "prices",
            id="twice",
        ),
        pytest.param([("acme", "x", 1, 1)], "provider", id="unknown-provider"),
        pytest.param([("openai", " ", 1, 1)], "model", id="blank-model"),
        pytest.param([("openai", "gpt-4.1", -1, 1)], "input_per_million", id="negative"),
        pytest.param(
            [("openai", "gpt-4.1", 1, MAX_PRICE_PER_MILLION + 1)],
            "output_per_million",
            id="too-dear",
        ),
    ],
)
def test_a_bad_price_table_is_refused_naming_the_field(
    prices: list[tuple[str, str, int, int]], field: str
) -> None:
    with pytest.raises(RuleViolated) as refused:
        PriceTable(ModelPrice(*price) for price in prices)

    assert field in refused.value.fields
