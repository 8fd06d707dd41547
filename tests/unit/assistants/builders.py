"""The assistants' use cases over an in-memory unit of work, wired as the container wires
them: what the assistants tests share."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from talia_core.assistants.admin import AssistantAdmin
from talia_core.assistants.capabilities import Capabilities
from talia_core.assistants.evaluation import Evaluation
from talia_core.assistants.language import LanguageModel
from talia_core.assistants.tools import ToolCatalogue
from talia_core.assistants.turn import AgentTurns
from talia_core.shared.clock import Clock


def evaluation(
    uow: Any, clock: Clock, *, models: Mapping[str, LanguageModel], tools: ToolCatalogue
) -> Evaluation:
    """An evaluation playing ``AgentTurns`` on ``models``, as ``turns_on`` makes them."""
    return Evaluation(
        uow, clock, turns=partial(AgentTurns, clock=clock, models=models), tools=tools
    )


def admin(
    uow: Any,
    clock: Clock,
    capabilities: Capabilities,
    *,
    models: Mapping[str, LanguageModel] | None = None,
    tools: ToolCatalogue | None = None,
) -> AssistantAdmin:
    """The admin, its gate evaluating on ``models`` with ``tools`` (none unless given)."""
    played = evaluation(uow, clock, models=models or {}, tools=tools or ToolCatalogue([]))
    return AssistantAdmin(uow, clock, capabilities, played)
