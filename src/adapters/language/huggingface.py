"""A ``LanguageModel`` on chat completions, through ``huggingface_hub``'s
``AsyncInferenceClient``: Hugging Face's router (which picks an inference provider; a model
id may name one, ``meta-llama/Llama-3.3-70B-Instruct:groq``) or any server speaking
OpenAI's chat completions at a base URL (vLLM, Ollama, llama.cpp, Mistral, TGI).

The instructions are the ``system`` message; stored prompts are OpenAI's, so a step with
only a ``PromptRef`` is refused. ``huggingface_hub`` runs on its own httpx2 client, which
it keeps open, with every stream's response, until it is closed: each step opens and closes
one, so nothing outlives the step. ``huggingface_hub`` (10 MB once imported) is imported with
the first client, so a process without a token never holds it.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable
from typing import TYPE_CHECKING, Any

from adapters.language import failures
from talia_core.assistants.language import (
    ModelEvent,
    ModelReply,
    ModelRequest,
    Said,
    TextDelta,
    ToolCall,
    ToolSpec,
    Usage,
)
from talia_core.shared.errors import ExternalServiceUnavailable, RequestRefused, TaliaError

if TYPE_CHECKING:
    import httpx2
    from huggingface_hub import (
        AsyncInferenceClient,
        ChatCompletionInputTool,
        ChatCompletionOutput,
        ChatCompletionStreamOutput,
        ChatCompletionStreamOutputDeltaToolCall,
    )
    from huggingface_hub.errors import HfHubHTTPError

SERVICE = "huggingface"


class HuggingFaceLanguageModel:
    """``base_url`` empty: Hugging Face's router, which takes only Hugging Face tokens
    (``hf_...``). A model without a token answers every step as unavailable."""

    def __init__(self, *, token: str, base_url: str = "", timeout_seconds: float = 10.0) -> None:
        self._token = token
        self._base_url = base_url or None
        self._timeout = timeout_seconds

    async def complete(self, request: ModelRequest) -> ModelReply:
        messages = _messages(request)
        async with self._client() as client:
            try:
                output = await client.chat_completion(
                    messages, **_parameters(request), stream=False
                )
            except client_errors() as error:
                raise failure_of(error) from error
        return _reply(output)

    async def stream(self, request: ModelRequest) -> AsyncIterator[ModelEvent]:
        messages = _messages(request)
        reply = _Collected(model=request.model)
        async with self._client() as client:
            try:
                chunks = await client.chat_completion(
                    messages,
                    **_parameters(request),
                    stream=True,
                    stream_options={"include_usage": True},
                )
                async for chunk in chunks:
                    if (text := reply.add(chunk)) is not None:
                        yield TextDelta(text)
            except client_errors() as error:
                raise failure_of(error) from error
        yield reply.finished()

    def _client(self) -> AsyncInferenceClient:
        if not self._token:
            raise failures.unconfigured(SERVICE, "TALIA_HUGGINGFACE__TOKEN")
        from huggingface_hub import AsyncInferenceClient

        return AsyncInferenceClient(
            base_url=self._base_url, api_key=self._token, timeout=self._timeout
        )


def _messages(request: ModelRequest) -> list[dict[str, Any]]:
    if request.instructions is None:
        raise RequestRefused(SERVICE, "stored prompts are OpenAI's: the step needs instructions")
    messages: list[dict[str, Any]] = [{"role": "system", "content": request.instructions}]
    for item in request.input:
        if isinstance(item, Said):
            messages.append({"role": item.role.value, "content": item.text})
        elif isinstance(item, ToolCall):
            call = {
                "id": item.call_id,
                "type": "function",
                "function": {"name": item.name, "arguments": item.arguments},
            }
            previous = messages[-1]
            if previous["role"] == "assistant" and "tool_calls" in previous:
                previous["tool_calls"].append(call)  # the calls of one answer, in one message
            else:
                messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
        else:
            messages.append({"role": "tool", "tool_call_id": item.call_id, "content": item.output})
    return messages


def _parameters(request: ModelRequest) -> dict[str, Any]:
    return {
        "model": request.model,
        "tools": [_tool(spec) for spec in request.tools] or None,
        "temperature": request.temperature,
        "max_tokens": request.max_output_tokens,
    }


def _tool(spec: ToolSpec) -> ChatCompletionInputTool:
    from huggingface_hub import ChatCompletionInputFunctionDefinition, ChatCompletionInputTool

    return ChatCompletionInputTool(
        type="function",
        function=ChatCompletionInputFunctionDefinition(
            name=spec.name, description=spec.description, parameters=dict(spec.parameters)
        ),
    )


def _reply(output: ChatCompletionOutput) -> ModelReply:
    if not output.choices:
        raise ExternalServiceUnavailable(SERVICE, "the answer has no choices")
    message = output.choices[0].message
    calls = tuple(
        ToolCall(call.id, call.function.name, _arguments(call.function.arguments))
        for call in message.tool_calls or ()
    )
    usage = output.usage
    return ModelReply(
        text=message.content or None,
        tool_calls=calls,
        usage=Usage(usage.prompt_tokens, usage.completion_tokens) if usage else Usage(0, 0),
        model=output.model,
    )


def _arguments(arguments: object) -> str:
    """The arguments as JSON text: TGI sends them as an object, the others as text."""
    return arguments if isinstance(arguments, str) else json.dumps(arguments)


class _Collected:
    """A streamed answer put together from its chunks: the text, each tool call from its
    pieces (by index), and the usage the last chunk reports."""

    def __init__(self, model: str) -> None:
        self.model = model
        self._text: list[str] = []
        self._calls: dict[int, list[str]] = {}
        self._usage = Usage(0, 0)

    def add(self, chunk: ChatCompletionStreamOutput) -> str | None:
        """Take one chunk in; its piece of text, if it has one."""
        self.model = chunk.model or self.model
        if chunk.usage is not None:
            self._usage = Usage(chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
        if not chunk.choices:
            return None
        delta = chunk.choices[0].delta
        self._add_calls(delta.tool_calls or ())
        if delta.content:
            self._text.append(delta.content)
            return delta.content
        return None

    def _add_calls(self, pieces: Iterable[ChatCompletionStreamOutputDeltaToolCall]) -> None:
        for piece in pieces:
            call = self._calls.setdefault(piece.index, ["", "", ""])
            call[0] = piece.id or call[0]
            call[1] = piece.function.name or call[1]
            call[2] += _arguments(piece.function.arguments or "")

    def finished(self) -> ModelReply:
        return ModelReply(
            text="".join(self._text) or None,
            tool_calls=tuple(ToolCall(*self._calls[index]) for index in sorted(self._calls)),
            usage=self._usage,
            model=self.model,
        )


def client_errors() -> tuple[type[HfHubHTTPError], type[httpx2.HTTPError]]:
    """What a client of huggingface_hub raises, for an ``except`` clause: evaluated only once
    something was raised, so only after a client (which imported the library) was made."""
    import httpx2
    from huggingface_hub.errors import HfHubHTTPError

    return HfHubHTTPError, httpx2.HTTPError


def failure_of(error: HfHubHTTPError | httpx2.HTTPError) -> TaliaError:
    """The core error an error of huggingface_hub means, for every adapter on it."""
    import httpx2
    from huggingface_hub.errors import (
        HfHubHTTPError,
        InferenceTimeoutError,
        TextGenerationError,
        ValidationError,
    )

    if isinstance(error, InferenceTimeoutError | httpx2.TimeoutException):
        return ExternalServiceUnavailable(SERVICE, "the request timed out")
    if isinstance(error, HfHubHTTPError) and error.response is not None:
        response = error.response
        return failures.failure(SERVICE, response.status_code, response, _detail(error))
    if isinstance(error, ValidationError):
        return RequestRefused(SERVICE, failures.shortened(str(error)))
    if isinstance(error, TextGenerationError):
        return ExternalServiceUnavailable(SERVICE, failures.shortened(str(error)))
    return failures.unreachable(SERVICE, error)


def _detail(error: HfHubHTTPError) -> str:
    """The provider's own message when it sent one, else the library's summary."""
    return error.server_message or str(error).strip().splitlines()[0]
