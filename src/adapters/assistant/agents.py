"""The conversations' assistant answered by the assistants context: definitions held as
data, their providers' models and the tool catalogue (``talia_core.assistants.turn``).

It translates between the two contexts, which do not know each other: a conversation's
messages become what the model reads, the turn's result becomes the reply, the tools
called and the assistant (at its version) that answered.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from talia_core.assistants.language import Role, Said
from talia_core.assistants.turn import AgentTurns, ToolEvent, TurnRequest
from talia_core.conversations.ports import (
    AssistantReply,
    AssistantTurn,
    Drafting,
    Speaker,
    ToolCall,
    TurnMessage,
)

logger = logging.getLogger("talia.assistants")


class AgentsAssistant:
    def __init__(self, turns: AgentTurns) -> None:
        self._turns = turns

    async def respond(
        self, turn: AssistantTurn, *, drafting: Drafting | None = None
    ) -> AssistantReply:
        if not turn.unanswered:
            return AssistantReply()
        result = await self._turns.take(
            TurnRequest(
                conversation_id=turn.conversation_id,
                contact_id=turn.contact_id,
                channel=turn.channel,
                contact_name=turn.contact_name,
                history=tuple(_said(m) for m in (*turn.history, *turn.unanswered)),
                assistant=turn.assistant,
            ),
            drafting=drafting,
        )
        speaker = result.speaker
        if speaker is None:
            logger.warning(
                "no enabled assistant answers %s: conversation %s waits for the agents "
                "(create one with POST /api/assistants)",
                turn.channel,
                turn.conversation_id,
            )
        return AssistantReply(
            messages=result.messages,
            tool_calls=tuple(_tool_call(event) for event in result.events),
            speaker=None
            if speaker is None
            else Speaker(
                speaker.id, speaker.name, speaker.version, speaker.voice_replies, speaker.voice
            ),
            hand_off=result.hand_off,
        )


def _said(message: TurnMessage) -> Said:
    """A message as the model reads it; one without text (a photo, a voice note) says what
    it was, until it can be described or transcribed."""
    role = Role.USER if message.author == "contact" else Role.ASSISTANT
    return Said(role, message.text or f"[{message.type}]")


def _tool_call(event: ToolEvent) -> ToolCall:
    return ToolCall(event.call.name, _arguments(event.call.arguments), event.output)


def _arguments(text: str) -> dict[str, Any]:
    """The arguments the model wrote, as an object; what is not one is kept as written."""
    try:
        value = json.loads(text)
    except ValueError:
        return {"unreadable": text}
    return value if isinstance(value, dict) else {"unreadable": text}
