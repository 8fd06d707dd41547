"""Catalog use cases: the public listing and the admin's changes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from talia_core.catalog.model import Plan, PlanAllowances, Template
from talia_core.catalog.ports import CatalogUnitOfWork
from talia_core.shared.clock import Clock
from talia_core.shared.money import Money, in_currency
from talia_core.shared.ports import UnitOfWorkFactory


class CatalogService:
    """Prices are in the shop's one currency, so carts and orders never mix currencies."""

    def __init__(
        self, uow: UnitOfWorkFactory[CatalogUnitOfWork], clock: Clock, *, currency: str
    ) -> None:
        self._uow = uow
        self._clock = clock
        self.currency = currency

    async def list_plans(self, *, active_only: bool = True) -> list[Plan]:
        async with self._uow(read_only=True) as uow:
            return await uow.plans.all(active_only=active_only)

    async def get_plan(self, plan_id: str) -> Plan:
        async with self._uow(read_only=True) as uow:
            return await uow.plans.get(plan_id)

    async def create_plan(
        self,
        *,
        name: str,
        price: Money,
        features: list[str],
        active: bool = True,
        allowances: PlanAllowances | None = None,
    ) -> Plan:
        in_currency("price", price, self.currency)
        plan = Plan.create(
            name=name,
            price=price,
            features=features,
            active=active,
            at=self._clock.now(),
            allowances=allowances,
        )
        async with self._uow() as uow:
            await uow.plans.add(plan)
            await uow.commit()
        return plan

    async def update_plan(
        self,
        plan_id: str,
        *,
        name: str | None = None,
        price: Money | None = None,
        features: list[str] | None = None,
        active: bool | None = None,
        allowances: PlanAllowances | None = None,
    ) -> Plan:
        in_currency("price", price, self.currency)
        async with self._uow() as uow:
            plan = await uow.plans.get(plan_id)
            plan.revise(
                at=self._clock.now(),
                name=name,
                price=price,
                features=features,
                active=active,
                allowances=allowances,
            )
            await uow.plans.update(plan)
            await uow.commit()
        return plan

    async def delete_plan(self, plan_id: str) -> None:
        """Orders keep their own copy of what was bought, so a plan can go for good."""
        async with self._uow() as uow:
            await uow.plans.remove(plan_id)
            await uow.commit()

    async def list_templates(
        self, *, active_only: bool = True, category: str | None = None
    ) -> list[Template]:
        async with self._uow(read_only=True) as uow:
            return await uow.templates.all(
                active_only=active_only, category=category.lower() if category else None
            )

    async def get_template(self, template_id: str) -> Template:
        async with self._uow(read_only=True) as uow:
            return await uow.templates.get(template_id)

    async def create_template(
        self,
        *,
        name: str,
        category: str,
        price: Money,
        preview_url: str | None = None,
        active: bool = True,
        fields: Mapping[str, Any] | None = None,
    ) -> Template:
        in_currency("price", price, self.currency)
        template = Template.create(
            name=name,
            category=category,
            price=price,
            preview_url=preview_url,
            active=active,
            at=self._clock.now(),
            fields=fields,
        )
        async with self._uow() as uow:
            await uow.templates.add(template)
            await uow.commit()
        return template

    async def update_template(
        self,
        template_id: str,
        *,
        name: str | None = None,
        category: str | None = None,
        price: Money | None = None,
        preview_url: str | None = None,
        active: bool | None = None,
        fields: Mapping[str, Any] | None = None,
    ) -> Template:
        in_currency("price", price, self.currency)
        async with self._uow() as uow:
            template = await uow.templates.get(template_id)
            template.revise(
                at=self._clock.now(),
                name=name,
                category=category,
                price=price,
                preview_url=preview_url,
                active=active,
                fields=fields,
            )
            await uow.templates.update(template)
            await uow.commit()
        return template

    async def delete_template(self, template_id: str) -> None:
        async with self._uow() as uow:
            await uow.templates.remove(template_id)
            await uow.commit()
