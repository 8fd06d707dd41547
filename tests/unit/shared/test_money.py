"""Money: whole minor units of one currency, never mixed, never floats."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from talia_core.shared.errors import RuleViolated
from talia_core.shared.money import Money

amounts = st.integers(min_value=-(10**12), max_value=10**12)
pen = amounts.map(lambda amount: Money(amount, "PEN"))


@given(pen, pen, pen)
def test_addition_is_associative_and_subtraction_undoes_it(a: Money, b: Money, c: Money) -> None:
    assert (a + b) + c == a + (b + c)
    assert (a + b) - b == a


@given(pen, st.integers(min_value=0, max_value=1000))
def test_times_is_repeated_addition(a: Money, quantity: int) -> None:
    total = Money.zero("PEN")
    for _ in range(quantity):
        total += a
    assert a.times(quantity) == total


@given(st.integers(min_value=0, max_value=10**12), st.integers(min_value=0, max_value=10_000))
def test_a_percentage_rounds_half_up_to_a_minor_unit_and_never_exceeds_the_whole(
    amount: int, basis_points: int
) -> None:
    part = Money(amount, "PEN").percent(basis_points)
    exact = amount * basis_points / 10_000
    assert abs(part.amount - exact) <= 0.5
    assert 0 <= part.amount <= amount


def test_half_a_minor_unit_rounds_up() -> None:
    assert Money(1, "PEN").percent(5_000) == Money(1, "PEN")
    assert Money(3, "PEN").percent(5_000) == Money(2, "PEN")


@given(pen, pen)
def test_min_and_ordering_agree(a: Money, b: Money) -> None:
    smaller = a.min(b)
    assert smaller <= a
    assert smaller <= b
    assert (a < b) == (a.amount < b.amount)


@pytest.mark.parametrize("operation", ["add", "sub", "lt", "min"])
def test_currencies_never_mix(operation: str) -> None:
    soles, dollars = Money(100, "PEN"), Money(100, "USD")
    with pytest.raises(RuleViolated, match="cannot combine PEN with USD"):
        {
            "add": lambda: soles + dollars,
            "sub": lambda: soles - dollars,
            "lt": lambda: soles < dollars,
            "min": lambda: soles.min(dollars),
        }[operation]()


@pytest.mark.parametrize("amount", [1.5, True, "10"])
def test_an_amount_is_a_whole_number_of_minor_units(amount: object) -> None:
    with pytest.raises(RuleViolated, match="whole minor units"):
        Money(amount, "PEN")  # type: ignore[arg-type]


@pytest.mark.parametrize("currency", ["pen", "PE", "PENN", "P3N", ""])
def test_a_currency_is_a_three_letter_iso_code(currency: str) -> None:
    with pytest.raises(RuleViolated, match="ISO 4217"):
        Money(100, currency)


@given(pen)
def test_negative_tells_the_sign(a: Money) -> None:
    assert a.is_negative == (a.amount < 0)
