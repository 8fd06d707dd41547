"""Money as integer minor units with a currency: never floats."""

from __future__ import annotations

import attrs

from talia_core.shared.errors import RuleViolated


def _currency(value: str) -> str:
    if len(value) != 3 or not value.isalpha() or not value.isupper():
        raise RuleViolated(f"currency must be a three-letter ISO 4217 code, got {value!r}")
    return value


@attrs.frozen(order=False)
class Money:
    amount: int
    currency: str = attrs.field(converter=_currency)

    def __attrs_post_init__(self) -> None:
        if isinstance(self.amount, bool) or not isinstance(self.amount, int):
            raise RuleViolated("money amounts are whole minor units")

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise RuleViolated(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def times(self, quantity: int) -> Money:
        return Money(self.amount * quantity, self.currency)

    def percent(self, basis_points: int) -> Money:
        """This amount times ``basis_points`` / 10 000, rounded half up to a minor unit."""
        numerator = self.amount * basis_points
        quotient, remainder = divmod(numerator, 10_000)
        if remainder * 2 >= 10_000:
            quotient += 1
        return Money(quotient, self.currency)

    def min(self, other: Money) -> Money:
        self._same(other)
        return self if self.amount <= other.amount else other

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    @property
    def is_negative(self) -> bool:
        return self.amount < 0


def in_currency(field: str, amount: Money | None, currency: str) -> None:
    """Refuse ``amount`` (when given) unless it is in ``currency``, naming ``field``."""
    if amount is not None and amount.currency != currency:
        raise RuleViolated(
            f"{field} must be in {currency}", {f"{field}.currency": f"must be {currency}"}
        )
