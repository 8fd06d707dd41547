"""What the models that run here rather than at a provider (the fake, the offline model)
report as a provider would: the usage, estimated, and the text streamed a word at a time.

Usage is an estimate, as providers' tokenizers differ: a token per four characters (at
least one) of what was sent (instructions and input) and of what was written (text and
calls).
"""

from __future__ import annotations

import math
import re
from collections.abc import AsyncIterator, Sequence

from talia_core.assistants.language import (
    ModelEvent,
    ModelReply,
    ModelRequest,
    Said,
    TextDelta,
    ToolCall,
    Usage,
)


def estimated_usage(request: ModelRequest, text: str | None, calls: Sequence[ToolCall]) -> Usage:
    written = (text or "") + "".join(call.name + call.arguments for call in calls)
    return Usage(_tokens(_sent(request)), _tokens(written))


async def word_by_word(reply: ModelReply) -> AsyncIterator[ModelEvent]:
    """The reply's text as ``TextDelta``s of a word each, then the reply."""
    for piece in re.findall(r"\s*\S+\s*", reply.text or ""):
        yield TextDelta(piece)
    yield reply


def _sent(request: ModelRequest) -> str:
    parts = [request.instructions or ""]
    for item in request.input:
        if isinstance(item, Said):
            parts.append(item.text)
        elif isinstance(item, ToolCall):
            parts.append(item.name + item.arguments)
        else:
            parts.append(item.output)
    return "".join(parts)


def _tokens(text: str) -> int:
    return max(1, math.ceil(len(text) / 4))
