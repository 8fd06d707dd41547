"""What the assistant did with its tools in a conversation, kept for the agents to read."""

from __future__ import annotations

from datetime import datetime

import attrs

from talia_core.shared.ids import new_id


@attrs.frozen
class ToolUse:
    """A tool ``assistant`` (at ``assistant_version``) called, with the arguments the model
    wrote and what the tool answered: why the bot did what it did."""

    conversation_id: str
    at: datetime
    assistant: str
    assistant_version: int
    tool: str
    arguments: str
    output: str
    id: str = attrs.field(factory=new_id)
