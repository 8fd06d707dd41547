"""``catalog_prices``: the plans and templates on sale now, with their prices."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any

from adapters.tools.money import money_json
from talia_core.assistants.language import ToolSpec
from talia_core.assistants.tools import ToolContext, ToolOutcome
from talia_core.catalog.model import Plan, Template
from talia_core.catalog.services import CatalogService

MAX_ITEMS = 20
"""The answer lists at most 20 products, and says so when more matched."""


def _folded(text: str) -> str:
    """``text`` without case or accents: ``Cumpleaños`` and ``CUMPLEANOS`` fold alike."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _plan(plan: Plan) -> dict[str, Any]:
    return {
        "kind": "plan",
        "name": plan.name,
        "features": plan.features,
        "price": money_json(plan.price),
    }


def _template(template: Template) -> dict[str, Any]:
    return {
        "kind": "template",
        "name": template.name,
        "category": template.category,
        "price": money_json(template.price),
    }


class CatalogPrices:
    spec = ToolSpec(
        name="catalog_prices",
        description="The plans and invitation templates on sale now, with their prices. "
        "Every argument is optional and narrows the list: the kind of product, a template "
        "category, or part of a name.",
        parameters={
            "type": "object",
            "properties": {
                "kind": {"type": "string", "enum": ["plan", "template"]},
                "category": {"type": "string", "minLength": 1, "maxLength": 60},
                "name": {"type": "string", "minLength": 1, "maxLength": 120},
            },
            "additionalProperties": False,
        },
    )
    acts = False

    def __init__(self, catalog: CatalogService, *, max_items: int = MAX_ITEMS) -> None:
        self._catalog = catalog
        self._max_items = max_items

    async def run(self, arguments: Mapping[str, Any], context: ToolContext) -> ToolOutcome:
        kind, category, name = (arguments.get(key) for key in ("kind", "category", "name"))
        items: list[dict[str, Any]] = []
        if kind in (None, "plan") and category is None:  # plans have no category
            items += [_plan(plan) for plan in await self._catalog.list_plans()]
        if kind in (None, "template"):
            items += [
                _template(template)
                for template in await self._catalog.list_templates()
                if category is None or _folded(template.category) == _folded(category)
            ]
        if name is not None:
            items = [item for item in items if _folded(name) in _folded(item["name"])]
        answer: dict[str, Any] = {"items": items[: self._max_items]}
        if len(items) > self._max_items:
            answer["note"] = (
                f"{self._max_items} of {len(items)} products shown: "
                "narrow by kind, category or name to see the others"
            )
        return ToolOutcome.of(answer)
