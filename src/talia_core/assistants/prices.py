"""What model calls cost: a price table held as data, kept by the admins.

A price is per million tokens, input and output apart, in US cents (``USAGE_CURRENCY``
minor units), as providers publish them: $0.40 per million tokens is 40. The cost of a
number of tokens is computed in integers, in cents:

    cost = ceil((input tokens * input price + output tokens * output price) / 1_000_000)

rounded up once per sum (a report row, a day's spend): a cost is never understated, so
rounding never lets a budget be overrun. A model missing from the table has no cost, never
a cost of zero; the offline assistant runs here and is free.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from talia_core.assistants.definition import (
    USAGE_CURRENCY,
    Provider,
    to_model,
    to_provider,
)
from talia_core.shared.errors import RuleViolated
from talia_core.shared.money import Money

TOKENS_PER_PRICE = 1_000_000
MAX_PRICE_PER_MILLION = 10_000_000
"""$100 000 per million tokens, in cents: more is a typo."""
MAX_PRICES = 200


def _price(field: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise RuleViolated(f"{field} is whole cents", {field: "not an integer"})
    if not 0 <= value <= MAX_PRICE_PER_MILLION:
        raise RuleViolated(
            f"{field} must be between 0 and {MAX_PRICE_PER_MILLION} cents",
            {field: "out of range"},
        )
    return value


def _input_price(value: int) -> int:
    return _price("input_per_million", value)


def _output_price(value: int) -> int:
    return _price("output_per_million", value)


@attrs.frozen
class ModelPrice:
    """What a million tokens of ``provider``'s ``model`` cost, in US cents."""

    provider: Provider = attrs.field(converter=to_provider)
    model: str = attrs.field(converter=to_model)
    input_per_million: int = attrs.field(converter=_input_price)
    output_per_million: int = attrs.field(converter=_output_price)

    def cost(self, input_tokens: int, output_tokens: int) -> Money:
        """The tokens' cost, rounded up to a whole cent (see the module)."""
        micro_cents = (
            input_tokens * self.input_per_million + output_tokens * self.output_per_million
        )
        return Money(-(-micro_cents // TOKENS_PER_PRICE), USAGE_CURRENCY)


_FREE = ModelPrice(Provider.OFFLINE, "rules", 0, 0)


def _prices(values: Iterable[ModelPrice]) -> tuple[ModelPrice, ...]:
    prices = tuple(values)
    if len(prices) > MAX_PRICES:
        raise RuleViolated(f"the table holds at most {MAX_PRICES} prices", {"prices": "too many"})
    keys = [(price.provider, price.model) for price in prices]
    if len(set(keys)) != len(keys):
        raise RuleViolated("the table prices a model twice", {"prices": "duplicate"})
    return tuple(sorted(prices, key=lambda price: (price.provider.value, price.model)))


@attrs.frozen
class PriceTable:
    """One price per provider and model, sorted by them."""

    prices: tuple[ModelPrice, ...] = attrs.field(default=(), converter=_prices)
    currency: str = USAGE_CURRENCY

    def price(self, provider: Provider, model: str) -> ModelPrice | None:
        """The model's price; None when the table has none (the offline assistant is free)."""
        if provider is Provider.OFFLINE:
            return _FREE
        return next((p for p in self.prices if (p.provider, p.model) == (provider, model)), None)

    def cost(
        self, provider: Provider, model: str, input_tokens: int, output_tokens: int
    ) -> Money | None:
        """What the tokens cost; None, never zero, when the model has no price."""
        price = self.price(provider, model)
        return None if price is None else price.cost(input_tokens, output_tokens)
