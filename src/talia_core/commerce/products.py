"""What is bought: references to catalog entries and lines priced from them.

Amounts are ``Money`` in the shop's one currency, and totals are always derived from lines.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

import attrs

from talia_core.shared.money import Money


class ProductKind(enum.StrEnum):
    PLAN = "plan"
    TEMPLATE = "template"


@attrs.frozen
class ProductRef:
    kind: ProductKind
    id: str

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.id}"

    @classmethod
    def parse(cls, text: str) -> ProductRef:
        kind, _, key = text.partition(":")
        return cls(ProductKind(kind), key)


@attrs.frozen
class Product:
    """What checkout needs to know of a catalog entry, read at the moment of buying."""

    ref: ProductRef
    name: str
    price: Money
    active: bool


@attrs.frozen
class Line:
    """A cart item priced from the catalog, or an order item as it was bought."""

    ref: ProductRef
    name: str
    unit_price: Money
    quantity: int

    @property
    def total(self) -> Money:
        return self.unit_price.times(self.quantity)


def total_of(lines: Iterable[Line], currency: str) -> Money:
    total = Money.zero(currency)
    for line in lines:
        total += line.total
    return total
