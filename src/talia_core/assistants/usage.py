"""What the assistants' model calls used: one record per call, summed per day.

Every call of a model is a ``ModelCall``: who asked (the assistant, at its version), which
model, the tokens in and out, and how it ended. A report sums them per UTC day, assistant,
provider and model, and prices each sum with the ``PriceTable`` of the day it is read: a
model the table does not price is flagged (``priced`` false, no cost), never costed at
zero.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime

import attrs

from talia_core.assistants.definition import (
    USAGE_CURRENCY,
    Assistant,
    Provider,
    to_model,
    to_provider,
)
from talia_core.assistants.language import Usage
from talia_core.assistants.prices import PriceTable
from talia_core.shared.errors import RuleViolated
from talia_core.shared.ids import new_id
from talia_core.shared.money import Money
from talia_core.shared.pagination import Page
from talia_core.shared.text import optional_text

MAX_REASON_LENGTH = 300
"""Why a call failed or fell back: a provider's diagnosis is shortened before it gets here."""
MAX_TOKENS = 100_000_000
"""More tokens than any model takes or writes in one call: a defect, not usage."""
MAX_REPORT_DAYS = 366


class Outcome(enum.StrEnum):
    ANSWERED = "answered"
    """The model answered."""
    FAILED = "failed"
    """The provider failed or refused: ``reason`` says how."""
    FELL_BACK = "fell_back"
    """The fallback answered instead: ``reason`` says why (the budget, say)."""


def _tokens(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_TOKENS:
        raise RuleViolated(f"tokens are whole numbers from 0 to {MAX_TOKENS}", {"tokens": "range"})
    return value


def _reason(value: str | None) -> str | None:
    return optional_text("reason", value, MAX_REASON_LENGTH)


@attrs.frozen
class ModelCall:
    """One call of a model by an assistant, as it ended; ``id`` makes recording it twice
    store it once. A call that did not happen because the assistant fell back (its budget
    spent) is recorded as ``FELL_BACK`` with no tokens, so admins see why."""

    id: str
    at: datetime
    assistant_id: str
    assistant_name: str
    assistant_version: int
    conversation_id: str | None
    provider: Provider = attrs.field(converter=to_provider)
    model: str = attrs.field(converter=to_model)
    input_tokens: int = attrs.field(converter=_tokens)
    output_tokens: int = attrs.field(converter=_tokens)
    outcome: Outcome = Outcome.ANSWERED
    reason: str | None = attrs.field(default=None, converter=_reason)

    def __attrs_post_init__(self) -> None:
        if (self.outcome is Outcome.ANSWERED) != (self.reason is None):
            raise RuleViolated(
                "a failed call or a fall-back says why; an answered call does not",
                {"reason": "required" if self.reason is None else "not expected"},
            )

    @classmethod
    def made(
        cls,
        assistant: Assistant,
        *,
        provider: str,
        model: str,
        usage: Usage | None,
        at: datetime,
        conversation_id: str | None = None,
        outcome: Outcome = Outcome.ANSWERED,
        reason: str | None = None,
    ) -> ModelCall:
        """A new record of a call ``assistant`` made (or fell back from) at ``at``;
        ``usage`` is None when the provider answered with none (it failed)."""
        return cls(
            id=new_id(),
            at=at,
            assistant_id=assistant.id,
            assistant_name=assistant.name,
            assistant_version=assistant.version,
            conversation_id=conversation_id,
            provider=provider,
            model=model,
            input_tokens=0 if usage is None else usage.input_tokens,
            output_tokens=0 if usage is None else usage.output_tokens,
            outcome=outcome,
            reason=reason,
        )

    @property
    def day(self) -> date:
        """The UTC day of the call: what reports and budgets count by."""
        return self.at.astimezone(UTC).date()


@attrs.frozen
class DailyUsage:
    """The calls of one assistant to one model on one UTC day, summed."""

    day: date
    assistant_id: str
    assistant_name: str
    provider: Provider
    model: str
    calls: int
    failed: int
    fell_back: int
    input_tokens: int
    output_tokens: int


def with_calls(usage: Sequence[DailyUsage], calls: Iterable[ModelCall]) -> list[DailyUsage]:
    """``usage`` with ``calls`` summed in, as the repository sums them once they are stored:
    a budget counts the calls its turn made and has not recorded yet."""
    rows = {(u.day, u.assistant_id, u.assistant_name, u.provider, u.model): u for u in usage}
    for call in calls:
        key = (call.day, call.assistant_id, call.assistant_name, call.provider, call.model)
        row = rows.get(key) or DailyUsage(*key, 0, 0, 0, 0, 0)
        rows[key] = attrs.evolve(
            row,
            calls=row.calls + 1,
            failed=row.failed + (call.outcome is Outcome.FAILED),
            fell_back=row.fell_back + (call.outcome is Outcome.FELL_BACK),
            input_tokens=row.input_tokens + call.input_tokens,
            output_tokens=row.output_tokens + call.output_tokens,
        )
    return list(rows.values())


@attrs.frozen
class UsageRow:
    """A day's usage with its cost; ``cost`` is None when the model has no price."""

    usage: DailyUsage
    cost: Money | None

    @property
    def priced(self) -> bool:
        return self.cost is not None


def priced(usage: Sequence[DailyUsage], prices: PriceTable) -> list[UsageRow]:
    return [
        UsageRow(u, prices.cost(u.provider, u.model, u.input_tokens, u.output_tokens))
        for u in usage
    ]


def _cost(rows: Sequence[UsageRow]) -> Money:
    """What the priced rows cost."""
    costs = [row.cost for row in rows if row.cost is not None]
    return sum(costs, Money.zero(USAGE_CURRENCY))


@attrs.frozen
class UsageTotals:
    """The sums of every row of a report; ``cost`` sums the priced rows only, and
    ``unpriced_calls`` counts the calls it leaves out."""

    calls: int
    input_tokens: int
    output_tokens: int
    cost: Money
    unpriced_calls: int

    @property
    def priced(self) -> bool:
        return self.unpriced_calls == 0

    @classmethod
    def of(cls, rows: Sequence[UsageRow]) -> UsageTotals:
        return cls(
            calls=sum(row.usage.calls for row in rows),
            input_tokens=sum(row.usage.input_tokens for row in rows),
            output_tokens=sum(row.usage.output_tokens for row in rows),
            cost=_cost(rows),
            unpriced_calls=sum(row.usage.calls for row in rows if not row.priced),
        )


@attrs.frozen
class UsageReport:
    """Days ``first`` to ``last`` (UTC, inclusive): one page of rows, by day, assistant,
    provider and model, and the totals of all of them."""

    first: date
    last: date
    rows: Page[UsageRow]
    totals: UsageTotals


def _dollars(money: Money) -> str:
    return f"${money.amount // 100}.{money.amount % 100:02d}"


@attrs.frozen
class BudgetCheck:
    """Whether an assistant may call a model now; when not, ``reason`` says why, for the
    turn to record with its fall-back."""

    allowed: bool
    reason: str | None = None

    @classmethod
    def of(cls, budget: Money, today: Sequence[UsageRow], next_is_priced: bool) -> BudgetCheck:
        """A budget is kept only when every call it counts has a price."""
        unpriced = sorted(
            {f"{r.usage.provider.value} {r.usage.model}" for r in today if not r.priced}
        )
        if not next_is_priced or unpriced:
            what = unpriced[0] if unpriced else "the model about to be called"
            more = f" and {len(unpriced) - 1} more" if len(unpriced) > 1 else ""
            return cls(False, f"no price for {what}{more}: the daily budget cannot be kept")
        spent = _cost(today)
        if budget <= spent:
            return cls(False, f"daily budget of {_dollars(budget)} spent ({_dollars(spent)} today)")
        return cls(True)


def period(first: date, last: date) -> None:
    """Refuse a period that ends before it starts or spans more than ``MAX_REPORT_DAYS``."""
    if last < first or (last - first).days >= MAX_REPORT_DAYS:
        raise RuleViolated(
            f"the period is 1 to {MAX_REPORT_DAYS} days, 'from' not after 'to'",
            {"to": "out of range"},
        )
