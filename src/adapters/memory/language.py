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
time, then the reply; usage is estimated (``adapters/language/local.py``).
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator, Sequence

from adapters.language.local import estimated_usage, word_by_word
from talia_core.assistants.language import (
    ModelEvent,
    ModelReply,
    ModelRequest,
    ToolCall,
)
from talia_core.shared.errors import ExternalServiceUnavailable, RequestRefused

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
        usage = estimated_usage(request, text, calls)
        return ModelReply(text=text, tool_calls=calls, usage=usage, model=request.model)

    async def stream(self, request: ModelRequest) -> AsyncIterator[ModelEvent]:
        async for event in word_by_word(await self.complete(request)):
            yield event
