"""The use case of model usage: record calls, keep daily budgets, report and price.

The turn checks the budget before every model call it makes (its fallback's included) and
records the turn's calls together when it ends, in one transaction, never while holding a
transaction of its own:

    check = await ledger.within_budget(assistant, provider=p, model=m, unrecorded=made)
    if not check.allowed:      # fall back, and say why
        made.append(ModelCall.made(assistant, provider=p, model=m, usage=None, at=now,
                                   outcome=Outcome.FELL_BACK, reason=check.reason))
    else:                      # call the model, then
        made.append(ModelCall.made(assistant, provider=p, model=m, usage=reply.usage, at=now))
    ...
    await ledger.record(*made)  # when the turn ends, however it ends

``unrecorded`` lets the budget count the calls the turn has made so far. A process that
dies in the middle of a turn loses the record of that turn's calls (a few at most); a
turn that fails records them on its way out.

The admins read the rest (the HTTP guard checks who calls).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date

import attrs

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
    with_calls,
)
from talia_core.shared.clock import Clock
from talia_core.shared.errors import Conflict
from talia_core.shared.pagination import Page, PageRequest
from talia_core.shared.ports import UnitOfWorkFactory


class UsageLedger:
    def __init__(self, uow: UnitOfWorkFactory[UsageUnitOfWork], clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def record(self, *calls: ModelCall) -> None:
        """Store ``calls`` in one transaction; recording one again (a retried job) keeps
        the one stored, by its id's key, and stores the others."""
        if not calls:
            return
        try:
            async with self._uow() as uow:
                for call in calls:
                    await uow.model_calls.add(call)
                await uow.commit()
        except Conflict:
            if len(calls) > 1:
                for call in calls:
                    await self.record(call)

    async def within_budget(
        self,
        assistant: Assistant,
        *,
        provider: Provider | str,
        model: str,
        unrecorded: Sequence[ModelCall] = (),
    ) -> BudgetCheck:
        """Whether ``assistant`` may call ``model`` now, before the call: allowed while
        what it spent today (UTC, priced now; ``unrecorded`` calls included) is under its
        daily budget, or when it has none. With a budget, a call of a model the table does
        not price is not allowed."""
        budget = assistant.definition.daily_budget
        if budget is None:
            return BudgetCheck(True)
        today = self._clock.now().astimezone(UTC).date()
        async with self._uow(read_only=True) as uow:
            prices = await uow.model_prices.table()
            stored = await uow.model_calls.daily(today, today, assistant.name)
        made = [c for c in unrecorded if c.assistant_name == assistant.name and c.day == today]
        spent = priced(with_calls(stored, made), prices)
        next_price = prices.price(to_provider(provider), model)
        return BudgetCheck.of(budget, spent, next_price is not None)

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


class DetachedLedger(UsageLedger):
    """The ledger of turns that belong to no conversation (an evaluation's, a frontend's
    direct chat): their calls are recorded with none, which is how they are told apart."""

    async def record(self, *calls: ModelCall) -> None:
        await super().record(*(attrs.evolve(call, conversation_id=None) for call in calls))
