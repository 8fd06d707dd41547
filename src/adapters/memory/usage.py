"""In-memory repositories of model usage, with the SQL tables' keys: a call is stored
once by its id, and the price table is replaced whole."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from adapters.memory.database import InMemoryRepositoryBundle, InMemoryTable, State, paginate
from talia_core.assistants.definition import Provider
from talia_core.assistants.prices import PriceTable
from talia_core.assistants.usage import DailyUsage, ModelCall, Outcome
from talia_core.shared.pagination import Page, PageRequest


class InMemoryModelCallRepository(InMemoryTable[ModelCall]):
    def __init__(self, state: Callable[[], State]) -> None:
        super().__init__(state, "model_calls", "model call")

    async def daily(
        self, first: date, last: date, assistant: str | None = None
    ) -> list[DailyUsage]:
        groups: dict[tuple[date, str, str, Provider, str], list[ModelCall]] = {}
        for call in self._in(first, last, assistant):
            key = (call.day, call.assistant_name, call.assistant_id, call.provider, call.model)
            groups.setdefault(key, []).append(call)
        return [
            DailyUsage(
                day=day,
                assistant_id=assistant_id,
                assistant_name=name,
                provider=provider,
                model=model,
                calls=len(calls),
                failed=sum(c.outcome is Outcome.FAILED for c in calls),
                fell_back=sum(c.outcome is Outcome.FELL_BACK for c in calls),
                input_tokens=sum(c.input_tokens for c in calls),
                output_tokens=sum(c.output_tokens for c in calls),
            )
            for (day, name, assistant_id, provider, model), calls in sorted(groups.items())
        ]

    async def find(
        self,
        first: date,
        last: date,
        page: PageRequest,
        *,
        assistant: str | None = None,
        outcome: Outcome | None = None,
    ) -> Page[ModelCall]:
        found = [c for c in self._in(first, last, assistant) if outcome in (None, c.outcome)]
        return paginate(found, page, key=lambda c: (c.at, c.id))

    def _in(self, first: date, last: date, assistant: str | None) -> list[ModelCall]:
        return self.matching(
            lambda c: first <= c.day <= last and assistant in (None, c.assistant_name)
        )


class InMemoryModelPriceRepository:
    def __init__(self, state: Callable[[], State]) -> None:
        self._state = state

    async def table(self) -> PriceTable:
        found: PriceTable = self._state().table("model_prices").get("table", PriceTable())
        return found

    async def replace(self, table: PriceTable) -> None:
        self._state().table("model_prices")["table"] = table


class InMemoryUsageRepositories(InMemoryRepositoryBundle):
    model_calls: InMemoryModelCallRepository
    model_prices: InMemoryModelPriceRepository

    def bind(self, state: Callable[[], State]) -> None:
        self.model_calls = InMemoryModelCallRepository(state)
        self.model_prices = InMemoryModelPriceRepository(state)
        super().bind(state)
