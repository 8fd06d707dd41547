"""A scripted language model for tests, passing the ``LanguageModel`` contract suite
(``tests/contracts/assistants/language_model.py``):

    model = FakeLanguageModel()
    model.answer(text="¿En qué te ayudo?")             # the next step's reply
    model.answer(tool_calls=[ToolCall("call_1", "order_status", '{"order":"PE-1"}')])
    model.fail_next(2)   # the next two steps: ExternalServiceUnavailable
    model.refuse_next()  # the next step that is not failed: RequestRefused
    ...
    model.requests       # every step asked, in order (failed and refused ones too)

A step with nothing scripted answers ``UNSCRIPTED``. A stream sends the text a word at a
time, then the reply. Usage is an estimate, as providers' tokenizers differ: a token per
four characters (at least one) of what was sent (instructions and input) and written.
"""

from __future__ import annotations

import math
import re
from collections import deque
from collections.abc import AsyncIterator, Sequence

from talia_core.assistants.language import (
    ModelEvent,
    ModelReply,
    ModelRequest,
    RequestRefused,
    Said,
    TextDelta,
    ToolCall,
    Usage,
)
from talia_core.shared.errors import ExternalServiceUnavailable

SERVICE = "fake-model"
UNSCRIPTED = "OK"


class FakeLanguageModel:
    def __init__(self) -> None:
        self.requests: list[ModelRequest] = []
        self._answers: deque[tuple[str | None, tuple[ToolCall, ...]]] = deque()
        self._failures = 0
        self._refusals: deque[str] = deque()

    def answer(self, text: str | None = None, tool_calls: Sequence[ToolCall] = ()) -> None:
        """Queue the reply of a coming step: text, calls of tools, or both."""
        self._answers.append((text, tuple(tool_calls)))

    def fail_next(self, times: int = 1) -> None:
        """The next ``times`` steps find the provider down."""
        self._failures += times

    def refuse_next(self, detail: str = "the request is invalid") -> None:
        """The next step that is not failed is refused; refusals queue up, one per step."""
        self._refusals.append(detail)

    async def complete(self, request: ModelRequest) -> ModelReply:
        self.requests.append(request)
        if self._failures > 0:
            self._failures -= 1
            raise ExternalServiceUnavailable(SERVICE, "the fake model is unavailable")
        if self._refusals:
            raise RequestRefused(SERVICE, self._refusals.popleft())
        text, calls = self._answers.popleft() if self._answers else (UNSCRIPTED, ())
        written = (text or "") + "".join(call.name + call.arguments for call in calls)
        usage = Usage(_tokens(_sent(request)), _tokens(written))
        return ModelReply(text=text, tool_calls=calls, usage=usage, model=request.model)

    async def stream(self, request: ModelRequest) -> AsyncIterator[ModelEvent]:
        reply = await self.complete(request)
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
