"""A ``LanguageModel`` on OpenAI's Responses API (``POST /v1/responses``), through the SDK.

Every step sends the whole conversation as input items and is not stored at OpenAI
(``store: false``): the conversation is ours. The SDK never retries (``max_retries=0``), the
resilience runner does. Tools are sent with ``strict: false``: a tool's schema is the
assistant definition's, and strict mode refuses schemas that do not close every object.
A response cut short (``incomplete``: the output token limit, say) is a reply with what was
written; one that failed after it started is an error, after the pieces already streamed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Literal, cast

import httpx
import openai
from openai import AsyncOpenAI, omit
from openai.types.responses import (
    EasyInputMessageParam,
    FunctionToolParam,
    Response,
    ResponseFunctionToolCallParam,
    ResponseInputItemParam,
    ResponsePromptParam,
)
from openai.types.responses.response_input_param import FunctionCallOutput

from adapters.language import failures
from talia_core.assistants.language import (
    InputItem,
    ModelEvent,
    ModelReply,
    ModelRequest,
    PromptRef,
    RequestRefused,
    Role,
    Said,
    TextDelta,
    ToolCall,
    ToolSpec,
    Usage,
)
from talia_core.shared.errors import ExternalServiceUnavailable, TaliaError

SERVICE = "openai"
OPENAI_URL = "https://api.openai.com/v1"

_ROLES: dict[Role, Literal["user", "assistant"]] = {
    Role.USER: "user",
    Role.ASSISTANT: "assistant",
}
# Why a response failed, when it is the request's fault (OpenAI's ``error.code``).
_REFUSED_CODES = frozenset(
    {"invalid_prompt", "invalid_image", "invalid_image_format", "invalid_base64_image"}
)


class OpenAIResponsesLanguageModel:
    """A model without an API key (OpenAI not configured) answers every step as unavailable
    rather than failing at start: the container builds every provider."""

    def __init__(
        self, client: httpx.AsyncClient, *, api_key: str, base_url: str = OPENAI_URL
    ) -> None:
        self._openai = (
            AsyncOpenAI(
                api_key=api_key,
                base_url=base_url,
                # The SDK runs on httpx2 and also takes a client of httpx, the one we share.
                http_client=cast(Any, client),
                max_retries=0,
            )
            if api_key
            else None
        )

    async def complete(self, request: ModelRequest) -> ModelReply:
        client = self._configured()
        try:
            response = await client.responses.create(**_arguments(request))
        except openai.APIError as error:
            raise _failure(error) from error
        return _reply(response)

    async def stream(self, request: ModelRequest) -> AsyncIterator[ModelEvent]:
        client = self._configured()
        try:
            events = await client.responses.create(**_arguments(request), stream=True)
            async with events:
                async for event in events:
                    if event.type == "response.output_text.delta":
                        yield TextDelta(event.delta)
                    elif event.type in ("response.completed", "response.incomplete"):
                        yield _reply(event.response)
                        return
                    elif event.type == "response.failed":
                        error = event.response.error
                        raise _failed(error.code if error else None, error.message if error else "")
                    elif event.type == "error":
                        raise _failed(event.code, event.message)
        except openai.APIError as error:
            raise _failure(error) from error
        raise ExternalServiceUnavailable(SERVICE, "the stream ended before the response did")

    def _configured(self) -> AsyncOpenAI:
        if self._openai is None:
            raise failures.unconfigured(SERVICE, "TALIA_OPENAI__API_KEY")
        return self._openai


def _arguments(request: ModelRequest) -> dict[str, Any]:
    return {
        "model": request.model,
        "input": [_item(item) for item in request.input],
        "instructions": request.instructions if request.instructions is not None else omit,
        "prompt": _prompt(request.prompt) if request.prompt is not None else omit,
        "tools": [_tool(spec) for spec in request.tools] if request.tools else omit,
        "temperature": request.temperature if request.temperature is not None else omit,
        "max_output_tokens": (
            request.max_output_tokens if request.max_output_tokens is not None else omit
        ),
        "store": False,
    }


def _item(item: InputItem) -> ResponseInputItemParam:
    if isinstance(item, Said):
        return EasyInputMessageParam(role=_ROLES[item.role], content=item.text)
    if isinstance(item, ToolCall):
        return ResponseFunctionToolCallParam(
            type="function_call", call_id=item.call_id, name=item.name, arguments=item.arguments
        )
    return FunctionCallOutput(type="function_call_output", call_id=item.call_id, output=item.output)


def _prompt(stored: PromptRef) -> ResponsePromptParam:
    prompt = ResponsePromptParam(id=stored.id)
    if stored.version is not None:
        prompt["version"] = stored.version
    if stored.variables:
        prompt["variables"] = dict(stored.variables)
    return prompt


def _tool(spec: ToolSpec) -> FunctionToolParam:
    return FunctionToolParam(
        type="function",
        name=spec.name,
        description=spec.description,
        parameters=dict(spec.parameters),
        strict=False,
    )


def _reply(response: Response) -> ModelReply:
    calls = tuple(
        ToolCall(item.call_id, item.name, item.arguments)
        for item in response.output
        if item.type == "function_call"
    )
    usage = response.usage
    return ModelReply(
        text=response.output_text or None,
        tool_calls=calls,
        usage=Usage(usage.input_tokens, usage.output_tokens) if usage else Usage(0, 0),
        model=response.model,
    )


def _failure(error: openai.APIError) -> TaliaError:
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
