"""The use case of model usage: record each call, keep daily budgets, report and price.

The turn uses two of its methods around every model call it makes (its fallback's
included), never while holding a transaction of its own:

    check = await ledger.within_budget(assistant, provider=p, model=m)
    if not check.allowed:      # fall back, and record why
        await ledger.record(ModelCall.made(assistant, provider=p, model=m, usage=None,
                            at=now, outcome=Outcome.FELL_BACK, reason=check.reason))
    else:                      # call the model, then
        await ledger.record(ModelCall.made(assistant, provider=p, model=m,
                            usage=reply.usage, at=now))

The admins read the rest (the HTTP guard checks who calls).
"""

from __future__ import annotations

from datetime import UTC, date

from talia_core.assistants.definition import Assistant, Provider, to_provider
from talia_core.assistants.ports import UsageUnitOfWork
from talia_core.assistants.prices import PriceTable
from talia_core.assistants.usage import (
    BudgetCheck,
    ModelCall,
    Outcome,
    UsageReport,
    UsageTotals,
    period,
    priced,
)
from talia_core.shared.clock import Clock
from talia_core.shared.errors import Conflict
from talia_core.shared.pagination import Page, PageRequest
from talia_core.shared.ports import UnitOfWorkFactory


class UsageLedger:
    def __init__(self, uow: UnitOfWorkFactory[UsageUnitOfWork], clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def record(self, call: ModelCall) -> None:
        """Store ``call`` in a transaction of its own; recording it again (a retried job)
        keeps the one stored, by its id's key."""
        try:
            async with self._uow() as uow:
                await uow.model_calls.add(call)
                await uow.commit()
        except Conflict:
            return

    async def within_budget(
        self, assistant: Assistant, *, provider: Provider | str, model: str
    ) -> BudgetCheck:
        """Whether ``assistant`` may call ``model`` now, before the call: allowed while
        what it spent today (UTC, priced now) is under its daily budget, or when it has
        none. With a budget, a call of a model the table does not price is not allowed."""
        budget = assistant.definition.daily_budget
        if budget is None:
            return BudgetCheck(True)
        today = self._clock.now().astimezone(UTC).date()
        async with self._uow(read_only=True) as uow:
            prices = await uow.model_prices.table()
            spent = await uow.model_calls.daily(today, today, assistant.name)
        next_price = prices.price(to_provider(provider), model)
        return BudgetCheck.of(budget, priced(spent, prices), next_price is not None)

    async def report(
        self, first: date, last: date, page: PageRequest, *, assistant: str | None = None
    ) -> UsageReport:
        """Per day, assistant, provider and model, priced with today's table."""
        period(first, last)
        async with self._uow(read_only=True) as uow:
            prices = await uow.model_prices.table()
            usage = await uow.model_calls.daily(first, last, assistant)
        rows = priced(usage, prices)
        shown = Page(
            rows[page.offset : page.offset + page.limit], len(rows), page.limit, page.offset
        )
        return UsageReport(first, last, shown, UsageTotals.of(rows))

    async def calls(
        self,
        first: date,
        last: date,
        page: PageRequest,
        *,
        assistant: str | None = None,
        outcome: Outcome | None = None,
    ) -> Page[ModelCall]:
        """The calls themselves, newest first: why each failed or fell back."""
        period(first, last)
        async with self._uow(read_only=True) as uow:
            return await uow.model_calls.find(
                first, last, page, assistant=assistant, outcome=outcome
            )

    async def prices(self) -> PriceTable:
        async with self._uow(read_only=True) as uow:
            return await uow.model_prices.table()

    async def set_prices(self, table: PriceTable) -> PriceTable:
        """Replace the whole table: reports and budgets price with it from now on."""
        async with self._uow() as uow:
            await uow.model_prices.replace(table)
            await uow.commit()
        return table
