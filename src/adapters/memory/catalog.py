"""In-memory repositories of the catalog context."""

from __future__ import annotations

from collections.abc import Callable

from adapters.memory.database import InMemoryRepositoryBundle, InMemoryTable, State
from talia_core.catalog.model import Plan, Template
from talia_core.shared.errors import NotFound


class InMemoryPlanRepository(InMemoryTable[Plan]):
    def __init__(self, state: Callable[[], State]) -> None:
        super().__init__(state, "plans", "plan")

    async def remove(self, plan_id: str) -> None:
        if self.rows.pop(plan_id, None) is None:
            raise NotFound("plan", plan_id)

    async def all(self, *, active_only: bool) -> list[Plan]:
        found = self.matching(lambda p: p.active or not active_only)
        return sorted(found, key=lambda p: (p.price.amount, p.name, p.id))


class InMemoryTemplateRepository(InMemoryTable[Template]):
    def __init__(self, state: Callable[[], State]) -> None:
        super().__init__(state, "templates", "template")

    async def remove(self, template_id: str) -> None:
        if self.rows.pop(template_id, None) is None:
            raise NotFound("template", template_id)

    async def all(self, *, active_only: bool, category: str | None) -> list[Template]:
        found = self.matching(
            lambda t: (t.active or not active_only) and (category is None or t.category == category)
        )
        return sorted(found, key=lambda t: (t.category, t.price.amount, t.name, t.id))


class InMemoryCatalogRepositories(InMemoryRepositoryBundle):
    plans: InMemoryPlanRepository
    templates: InMemoryTemplateRepository

    def bind(self, state: Callable[[], State]) -> None:
        self.plans = InMemoryPlanRepository(state)
        self.templates = InMemoryTemplateRepository(state)
        super().bind(state)
