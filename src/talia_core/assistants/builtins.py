"""The tools every assistant may be given that need no other context: a person, or a
specialist assistant, takes the conversation over."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from talia_core.assistants.language import ToolSpec
from talia_core.assistants.tools import ToolContext, ToolOutcome

_REASON = {"type": "string", "maxLength": 500}


class HandOffToHuman:
    spec = ToolSpec(
        name="handoff_to_human",
        description="Hand the conversation to a person of the team; the assistant stops "
        "answering it.",
        parameters={
            "type": "object",
            "properties": {"reason": _REASON},
            "additionalProperties": False,
        },
    )
    acts = True

    async def run(self, arguments: Mapping[str, Any], context: ToolContext) -> ToolOutcome:
        return ToolOutcome.of({"handed_off": True}, hand_off=True)


class TransferToAssistant:
    spec = ToolSpec(
        name="transfer_to_assistant",
        description="Transfer the conversation to another assistant, named by the "
        "instructions, who answers from now on.",
        parameters={
            "type": "object",
            "properties": {"assistant": {"type": "string", "maxLength": 64}, "reason": _REASON},
            "required": ["assistant"],
            "additionalProperties": False,
        },
    )
    acts = True

    async def run(self, arguments: Mapping[str, Any], context: ToolContext) -> ToolOutcome:
        target = arguments["assistant"]
        return ToolOutcome.of({"transferred_to": target}, transfer_to=target)


CONTROL_TOOLS = frozenset({HandOffToHuman.spec.name, TransferToAssistant.spec.name})
"""The tools whose effect the turn itself carries out (a hand-off, a transfer): a dry run
keeps them, so what a rehearsal plays still ends as it would."""
