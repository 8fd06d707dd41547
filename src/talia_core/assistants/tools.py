"""The tool catalogue: what assistants may call, and the one place a call is run.

A tool is a name, a JSON schema for its arguments, a use case of some context behind it,
and whether it acts (changes something) or only reads. The assistants context knows tools
only through this catalogue: the composition root registers each one once. A tool acts
only for the conversation's own contact (``ToolContext``), whatever the model asks. A
rehearsal (``ToolCatalogue.rehearsal``) runs what reads and performs nothing that acts.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Collection, Iterable, Mapping
from typing import Any, Protocol

import attrs

from talia_core.assistants.arguments import BadArguments, parsed_arguments
from talia_core.assistants.language import ToolCall, ToolSpec
from talia_core.shared.errors import ExternalServiceUnavailable, TaliaError

logger = logging.getLogger("talia.assistants")


@attrs.frozen
class ToolContext:
    """Whom the conversation is with: the only contact a tool may act for or read about;
    and the knowledge collections its assistant may search, the only ones a tool reads."""

    conversation_id: str
    contact_id: str
    channel: str
    assistant: str
    knowledge: tuple[str, ...] = ()


@attrs.frozen
class ToolOutcome:
    """What the tool answered (text the model reads, JSON as a rule) and what it asks the
    turn to do: hand the conversation to a person, or transfer it to another assistant."""

    output: str
    hand_off: bool = False
    transfer_to: str | None = None

    @classmethod
    def of(cls, value: Any, **effects: Any) -> ToolOutcome:
        """An outcome whose output is ``value`` as JSON."""
        return cls(json.dumps(value, ensure_ascii=False, default=str), **effects)

    @classmethod
    def error(cls, message: str) -> ToolOutcome:
        return cls.of({"error": message})


class Tool(Protocol):
    @property
    def spec(self) -> ToolSpec: ...

    @property
    def acts(self) -> bool:
        """True when running the tool changes something; False when it only reads."""
        ...

    async def run(self, arguments: Mapping[str, Any], context: ToolContext) -> ToolOutcome:
        """Run with checked ``arguments``; a core error it raises becomes the model's answer,
        except ``ExternalServiceUnavailable``, which fails the turn so its job retries."""
        ...


class ToolCatalogue:
    def __init__(self, tools: Iterable[Tool]) -> None:
        self._tools: dict[str, Tool] = {}
        for tool in tools:
            if tool.spec.name in self._tools:
                raise ValueError(f"two tools are named {tool.spec.name!r}")
            self._tools[tool.spec.name] = tool

    def names(self) -> frozenset[str]:
        return frozenset(self._tools)

    def specs(self, names: Iterable[str]) -> tuple[ToolSpec, ...]:
        """The specs of the tools named that exist, in the order named."""
        return tuple(self._tools[name].spec for name in names if name in self._tools)

    def rehearsal(self, keep: Collection[str]) -> ToolCatalogue:
        """This catalogue for a dry run: each tool that acts answers that it was not
        performed, instead of running, but those named in ``keep``; the others run."""
        return ToolCatalogue(
            _NotPerformed(tool) if tool.acts and name not in keep else tool
            for name, tool in self._tools.items()
        )

    async def run(
        self, call: ToolCall, context: ToolContext, *, allowed: Collection[str]
    ) -> ToolOutcome:
        """Run ``call`` when it names an allowed tool with good arguments; whatever is
        wrong is answered to the model as an error, never raised."""
        tool = self._tools.get(call.name)
        if tool is None or call.name not in allowed:
            return ToolOutcome.error(f"there is no tool {call.name!r}")
        try:
            arguments = parsed_arguments(call.arguments, tool.spec.parameters)
        except BadArguments as bad:
            return ToolOutcome.error(f"bad arguments: {bad}")
        try:
            return await tool.run(arguments, context)
        except ExternalServiceUnavailable:
            raise
        except TaliaError as error:
            logger.info("tool %s answered an error: %s", call.name, error.detail)
            return ToolOutcome.error(error.detail)


@attrs.frozen
class _NotPerformed:
    """A tool that acts, in a dry run: its arguments are checked as ever, then the model
    reads that it was not performed."""

    tool: Tool
    acts = True

    @property
    def spec(self) -> ToolSpec:
        return self.tool.spec

    async def run(self, arguments: Mapping[str, Any], context: ToolContext) -> ToolOutcome:
        return ToolOutcome.of(
            {"performed": False, "dry_run": True, "note": "a rehearsal: nothing was done"}
        )
