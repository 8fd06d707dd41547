"""A ``LanguageModel`` on OpenAI's Responses API (``POST /v1/responses``), through the SDK.

Every step sends the whole conversation as input items and is not stored at OpenAI
(``store: false``): the conversation is ours. The SDK never retries (``max_retries=0``), the
resilience runner does. Tools are sent with ``strict: false``: a tool's schema is the
assistant definition's, and strict mode refuses schemas that do not close every object.
A response cut short (``incomplete``: the output token limit, say) is a reply with what was
written; one that failed (``failed``, with its ``error``) is an error, when streamed after
the pieces already sent.

The SDK is the transport (its client, authentication, errors and server-sent events), but
the request body is built here as plain JSON and the response read with msgspec into the
few fields a reply needs: the SDK's typed ``responses.create`` spends more time transforming
its parameters and building pydantic objects than the rest of a turn's overhead. The SDK
(over 20 MB once imported) is imported with the first client, so a process without an API
key never holds it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, cast

import httpx
import msgspec

from adapters.language import failures
from talia_core.assistants.language import (
    InputItem,
    ModelEvent,
    ModelReply,
    ModelRequest,
    PromptRef,
    Said,
    TextDelta,
    ToolCall,
    ToolSpec,
    Usage,
)
from talia_core.shared.errors import ExternalServiceUnavailable, RequestRefused, TaliaError

if TYPE_CHECKING:
    import openai
    from openai import AsyncOpenAI, RequestOptions

SERVICE = "openai"
OPENAI_URL = "https://api.openai.com/v1"

_PATH = "/responses"
_OPTIONS: RequestOptions = {"security": {"bearer_auth": True}}
# Why a response failed, when it is the request's fault (OpenAI's ``error.code``).
_REFUSED_CODES = frozenset(
    {"invalid_prompt", "invalid_image", "invalid_image_format", "invalid_base64_image"}
)


class _Content(msgspec.Struct):
    type: str
    text: str = ""


class _Item(msgspec.Struct):
    type: str
    content: list[_Content] = []
    call_id: str = ""
    name: str = ""
    arguments: str = ""


class _Usage(msgspec.Struct):
    input_tokens: int = 0
    output_tokens: int = 0


class _Error(msgspec.Struct):
    code: str | None = None
    message: str = ""


class _Response(msgspec.Struct):
    """What a reply needs of OpenAI's response object; the rest is not read."""

    model: str
    output: list[_Item] = []
    usage: _Usage | None = None
    error: _Error | None = None


class _Event(msgspec.Struct):
    """A server-sent event of a streamed response, as far as a reply needs it."""

    type: str
    delta: str = ""
    response: _Response | None = None
    code: str | None = None
    message: str = ""


_decoder = msgspec.json.Decoder(_Response)


class OpenAIResponsesLanguageModel:
    """A model without an API key (OpenAI not configured) answers every step as unavailable
    rather than failing at start: the container builds every provider."""

    def __init__(
        self, client: httpx.AsyncClient, *, api_key: str, base_url: str = OPENAI_URL
    ) -> None:
        self._openai = sdk_client(client, api_key=api_key, base_url=base_url)

    async def complete(self, request: ModelRequest) -> ModelReply:
        client = self._configured()
        try:
            raw = await client.post(_PATH, cast_to=bytes, body=_body(request), options=_OPTIONS)
        except api_error() as error:
            raise failure_of(error) from error
        response = _decoded(raw)
        if response.error is not None:
            raise _failed(response.error.code, response.error.message)
        return _reply(response)

    async def stream(self, request: ModelRequest) -> AsyncIterator[ModelEvent]:
        client = self._configured()
        from openai import AsyncStream

        body = {**_body(request), "stream": True}
        try:
            events = await client.post(
                _PATH,
                cast_to=object,
                body=body,
                options=_OPTIONS,
                stream=True,
                stream_cls=AsyncStream[object],
            )
            async with events:
                async for data in events:
                    event = _event(data)
                    if event.type == "response.output_text.delta":
                        yield TextDelta(event.delta)
                    elif event.type in ("response.completed", "response.incomplete"):
                        yield _reply(_whole(event))
                        return
                    elif event.type == "response.failed":
                        error = event.response.error if event.response else None
                        raise _failed(error.code if error else None, error.message if error else "")
                    elif event.type == "error":
                        raise _failed(event.code, event.message)
        except api_error() as error:
            raise failure_of(error) from error
        raise ExternalServiceUnavailable(SERVICE, "the stream ended before the response did")

    def _configured(self) -> AsyncOpenAI:
        if self._openai is None:
            raise failures.unconfigured(SERVICE, "TALIA_OPENAI__API_KEY")
        return self._openai


def sdk_client(client: httpx.AsyncClient, *, api_key: str, base_url: str) -> AsyncOpenAI | None:
    """The SDK's client on ``client``, never retrying; None without an API key."""
    if not api_key:
        return None
    from openai import AsyncOpenAI

    # The SDK runs on httpx2 and also takes a client of httpx, the one we share.
    return AsyncOpenAI(
        api_key=api_key, base_url=base_url, http_client=cast(Any, client), max_retries=0
    )


def _body(request: ModelRequest) -> dict[str, Any]:
    """The request as OpenAI documents it; what the request leaves unset is not sent."""
    body: dict[str, Any] = {
        "model": request.model,
        "input": [_item(item) for item in request.input],
        "store": False,
    }
    if request.instructions is not None:
        body["instructions"] = request.instructions
    if request.prompt is not None:
        body["prompt"] = _prompt(request.prompt)
    if request.tools:
        body["tools"] = [_tool(spec) for spec in request.tools]
    if request.temperature is not None:
        body["temperature"] = request.temperature
    if request.max_output_tokens is not None:
        body["max_output_tokens"] = request.max_output_tokens
    return body


def _item(item: InputItem) -> dict[str, str]:
    if isinstance(item, Said):
        return {"role": item.role.value, "content": item.text}
    if isinstance(item, ToolCall):
        return {
            "type": "function_call",
            "call_id": item.call_id,
            "name": item.name,
            "arguments": item.arguments,
        }
    return {"type": "function_call_output", "call_id": item.call_id, "output": item.output}


def _prompt(stored: PromptRef) -> dict[str, Any]:
    prompt: dict[str, Any] = {"id": stored.id}
    if stored.version is not None:
        prompt["version"] = stored.version
    if stored.variables:
        prompt["variables"] = dict(stored.variables)
    return prompt


def _tool(spec: ToolSpec) -> dict[str, Any]:
    return {
        "type": "function",
        "name": spec.name,
        "description": spec.description,
        "parameters": dict(spec.parameters),
        "strict": False,
    }


def _decoded(raw: bytes) -> _Response:
    try:
        return _decoder.decode(raw)
    except msgspec.MsgspecError as error:
        raise _unreadable(error) from error


def _event(data: object) -> _Event:
    try:
        return msgspec.convert(data, _Event)
    except msgspec.MsgspecError as error:
        raise _unreadable(error) from error


def _whole(event: _Event) -> _Response:
    """The response a ``response.completed`` or ``response.incomplete`` event carries."""
    if event.response is None:
        raise _unreadable(f"{event.type} without its response")
    return event.response


def _unreadable(what: object) -> ExternalServiceUnavailable:
    return ExternalServiceUnavailable(
        SERVICE, f"an unreadable response: {failures.shortened(str(what))}"
    )


def _reply(response: _Response) -> ModelReply:
    texts: list[str] = []
    calls: list[ToolCall] = []
    for item in response.output:
        if item.type == "message":
            texts += [part.text for part in item.content if part.type == "output_text"]
        elif item.type == "function_call":
            calls.append(ToolCall(item.call_id, item.name, item.arguments))
    usage = response.usage
    return ModelReply(
        text="".join(texts) or None,
        tool_calls=tuple(calls),
        usage=Usage(usage.input_tokens, usage.output_tokens) if usage else Usage(0, 0),
        model=response.model,
    )


def api_error() -> type[openai.APIError]:
    """The SDK's error, for an ``except`` clause: evaluated only once something was raised,
    so only after a client (which imported the SDK) was called."""
    import openai

    return openai.APIError


def failure_of(error: openai.APIError) -> TaliaError:
    """The core error an error of the SDK means, for every adapter on OpenAI."""
    import openai

    if isinstance(error, openai.APITimeoutError):
        return ExternalServiceUnavailable(SERVICE, "the request timed out")
    if isinstance(error, openai.APIConnectionError):
        return failures.unreachable(SERVICE, error.__cause__)
    if isinstance(error, openai.APIStatusError):
        return failures.failure(SERVICE, error.status_code, error.response, error.message)
    return ExternalServiceUnavailable(SERVICE, failures.shortened(error.message))


def _failed(code: str | None, message: str) -> TaliaError:
    """A response that failed after it started (``response.failed`` or an ``error`` event)."""
    described = f"{code or 'error'}: {failures.shortened(message)}"
    if code in _REFUSED_CODES:
        return RequestRefused(SERVICE, described)
    return ExternalServiceUnavailable(SERVICE, f"the response failed: {described}")
