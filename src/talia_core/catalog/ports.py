"""What the catalog needs from storage."""

from __future__ import annotations

from typing import Protocol

from talia_core.catalog.model import Plan, Template
from talia_core.shared.ports import UnitOfWork


class PlanRepository(Protocol):
    async def add(self, plan: Plan) -> None: ...

    async def get(self, plan_id: str) -> Plan:
        """Raises ``NotFound`` when there is no such plan."""
        ...

    async def update(self, plan: Plan) -> None: ...

    async def remove(self, plan_id: str) -> None:
        """Raises ``NotFound`` when there is no such plan."""
        ...

    async def all(self, *, active_only: bool) -> list[Plan]:
        """Cheapest first, then by name: a catalog is small enough to list whole."""
        ...


class TemplateRepository(Protocol):
    async def add(self, template: Template) -> None: ...

    async def get(self, template_id: str) -> Template: ...

    async def update(self, template: Template) -> None: ...

    async def remove(self, template_id: str) -> None: ...

    async def all(self, *, active_only: bool, category: str | None) -> list[Template]:
        """By category, then cheapest first, then by name."""
        ...


class CatalogUnitOfWork(UnitOfWork, Protocol):
    @property
    def plans(self) -> PlanRepository: ...

    @property
    def templates(self) -> TemplateRepository: ...
