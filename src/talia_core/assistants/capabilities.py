"""What a definition may name: the tools that exist and the models of each provider.

Data, not code: the composition root builds it (from the tool catalogue and the providers
this deployment runs) and hands it to ``AssistantAdmin``, which refuses a definition that
names anything else.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

import attrs

from talia_core.assistants.definition import Definition, Provider
from talia_core.shared.errors import RuleViolated


def _models(models: Mapping[str, Collection[str]]) -> dict[Provider, frozenset[str]]:
    return {Provider(provider): frozenset(names) for provider, names in models.items()}


@attrs.frozen
class Capabilities:
    """``models`` maps a provider (or its name) to its model names; a provider missing
    from it is not available. ``lead_criteria`` refuses a definition's ``leads`` block that
    the leads context cannot read (``RuleViolated`` naming the path)."""

    tools: frozenset[str]
    models: Mapping[Provider, frozenset[str]] = attrs.field(converter=_models)
    lead_criteria: Callable[[Mapping[str, Any]], object] | None = None

    def check(self, definition: Definition) -> None:
        """Refuse ``definition`` when it names a provider, model or tool that is not here."""
        self._model("", definition.provider, definition.model)
        fallback = definition.fallback
        if fallback.provider is not None and fallback.model is not None:
            self._model("fallback.", fallback.provider, fallback.model)
        if definition.leads is not None and self.lead_criteria is not None:
            self.lead_criteria(definition.leads)
        unknown = [tool for tool in definition.tools if tool not in self.tools]
        if unknown:
            raise RuleViolated(
                f"no such tool: {', '.join(unknown)}; known: {', '.join(sorted(self.tools))}",
                {"tools": "unknown"},
            )

    def _model(self, prefix: str, provider: Provider, model: str) -> None:
        models = self.models.get(provider)
        if models is None:
            raise RuleViolated(
                f"{prefix}provider {provider.value} is not available here",
                {f"{prefix}provider": "unavailable"},
            )
        if model not in models:
            raise RuleViolated(
                f"{prefix}model {model!r} is not one of {provider.value}'s: "
                f"{', '.join(sorted(models))}",
                {f"{prefix}model": "unknown"},
            )
