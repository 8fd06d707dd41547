"""Sales: the paid orders of a period, summed per day."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

import attrs

from talia_core.commerce.order import OrderStatus
from talia_core.shared.money import Money


@attrs.frozen
class Sale:
    """An order that was paid, as the sales summary needs it."""

    paid_at: datetime
    status: OrderStatus
    total: Money
    discount: Money


@attrs.frozen
class SalesDay:
    day: date
    orders: int
    revenue: Money
    discounts: Money
    refunded_orders: int
    refunded: Money


def summarize(sales: Iterable[Sale], currency: str) -> list[SalesDay]:
    """Per UTC day of payment: orders paid and kept, their revenue and discounts, refunds."""
    zero = Money.zero(currency)
    days: dict[date, list[Sale]] = {}
    for sale in sales:
        days.setdefault(sale.paid_at.date(), []).append(sale)
    summary = []
    for day in sorted(days):
        kept = [s for s in days[day] if s.status is not OrderStatus.REFUNDED]
        refunded = [s for s in days[day] if s.status is OrderStatus.REFUNDED]
        summary.append(
            SalesDay(
                day=day,
                orders=len(kept),
                revenue=sum((s.total for s in kept), zero),
                discounts=sum((s.discount for s in kept), zero),
                refunded_orders=len(refunded),
                refunded=sum((s.total for s in refunded), zero),
            )
        )
    return summary


@attrs.frozen
class SalesSummary:
    first: date
    last: date
    currency: str
    days: list[SalesDay]

    @property
    def orders(self) -> int:
        return sum(day.orders for day in self.days)

    @property
    def revenue(self) -> Money:
        return sum((day.revenue for day in self.days), Money.zero(self.currency))

    @property
    def discounts(self) -> Money:
        return sum((day.discounts for day in self.days), Money.zero(self.currency))
