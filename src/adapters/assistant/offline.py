"""The offline assistant: answers from a definition held as data, with no language model.

Nothing it says is written in code: it all comes from its definition (``definition.py``
says its shape), answered as ``rules.py`` says. A hand-off is a reply with ``hand_off`` and
a ``HAND_OFF`` tool call with ``{"reason": "requested"}`` or ``{"reason": "not_understood"}``;
a turn with no messages gets no reply.
"""

from __future__ import annotations

from adapters.assistant.definition import AssistantDefinition
from adapters.assistant.rules import Rules
from talia_core.conversations.ports import (
    HAND_OFF,
    AssistantReply,
    AssistantTurn,
    Drafting,
    ToolCall,
)


class OfflineAssistant:
    def __init__(self, definition: AssistantDefinition) -> None:
        self._definition = definition
        self._rules = Rules(definition)

    @property
    def definition(self) -> AssistantDefinition:
        return self._definition

    async def respond(
        self, turn: AssistantTurn, *, drafting: Drafting | None = None
    ) -> AssistantReply:
        """Answers at once: nothing to draft."""
        reply = self._rules.reply(turn.unanswered, turn.history, first=turn.is_first)
        if reply.hand_off is None:
            return AssistantReply(reply.messages)
        call = ToolCall(HAND_OFF, {"reason": reply.hand_off})
        return AssistantReply(reply.messages, (call,), hand_off=True)
