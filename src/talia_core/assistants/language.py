"""What an assistant asks of a language model: one step of a turn.

A step sends the instructions (or a stored prompt of the provider's), the conversation so
far as input items, and the tools the model may call; the model answers with text, with
calls of tools, or both. The conversation is ours: every request carries the history it
needs, so a turn works the same on any provider.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Mapping
from typing import Any, Protocol

import attrs


class Role(enum.StrEnum):
    USER = "user"
    ASSISTANT = "assistant"


@attrs.frozen
class Said:
    """A message of the conversation: the customer's (user) or the assistant's."""

    role: Role
    text: str


@attrs.frozen
class ToolCall:
    """A call the model asks for; ``arguments`` is the JSON text it wrote, unchecked."""

    call_id: str
    name: str
    arguments: str


@attrs.frozen
class ToolOutput:
    """What a tool answered to the call with ``call_id``, as text for the model."""

    call_id: str
    output: str


InputItem = Said | ToolCall | ToolOutput


@attrs.frozen
class ToolSpec:
    """A tool as the model sees it: ``parameters`` is the JSON schema of its arguments."""

    name: str
    description: str
    parameters: Mapping[str, Any]


@attrs.frozen
class PromptRef:
    """A prompt stored at the provider (OpenAI's ``prompt``), with its variables."""

    id: str
    version: str | None = None
    variables: Mapping[str, str] = attrs.field(factory=dict)


@attrs.frozen
class ModelRequest:
    """One step: ``instructions`` or ``prompt`` (or both), never neither."""

    model: str
    input: tuple[InputItem, ...]
    instructions: str | None = None
    prompt: PromptRef | None = None
    tools: tuple[ToolSpec, ...] = ()
    temperature: float | None = None
    max_output_tokens: int | None = None

    def __attrs_post_init__(self) -> None:
        if self.instructions is None and self.prompt is None:
            raise ValueError("a model request needs instructions or a stored prompt")


@attrs.frozen
class Usage:
    input_tokens: int
    output_tokens: int


@attrs.frozen
class ModelReply:
    """The model's answer to one step: text, tool calls, or both; ``model`` is the model
    the provider says answered (a dated snapshot of the one asked for, say)."""

    text: str | None
    tool_calls: tuple[ToolCall, ...]
    usage: Usage
    model: str


@attrs.frozen
class TextDelta:
    """A piece of the answer's text, as the model writes it."""

    text: str


ModelEvent = TextDelta | ModelReply
"""What a stream yields: deltas of the text, then the whole reply, last."""


class LanguageModel(Protocol):
    """A provider's models. Errors: ``ExternalServiceUnavailable`` when the provider is
    down, slow or throttling (with its retry-after), ``RequestRefused`` when it refuses
    the request itself."""

    async def complete(self, request: ModelRequest) -> ModelReply: ...

    def stream(self, request: ModelRequest) -> AsyncIterator[ModelEvent]:
        """The reply as it is written: ``TextDelta``s, then the ``ModelReply`` last."""
        ...
