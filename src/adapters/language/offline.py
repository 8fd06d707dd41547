"""The offline language model: an offline definition's rules (``adapters/assistant/
definition.py``) answering as a ``LanguageModel``, with no network, always the same way.

A step answers the customer's messages of the turn (those after the assistant last spoke)
as the offline assistant would (``adapters/assistant/rules.py``), its texts joined by a
blank line, except where a rule names a tool the request offers (in ``tools``); a rule
whose tool is not offered says its reply. A tool is called once a turn, with the arguments
of the first rule that names it.

- A matched answer with a ``tool`` calls it with its ``arguments``, in a step that says
  nothing else. The next step, once the outputs follow the calls, answers with text: such
  an answer says its ``tool_reply`` with each ``{name}`` replaced by the field ``name`` of
  the tool's output (a JSON object; a string as it is, anything else as JSON) and
  ``{output}`` by the whole output; without a ``tool_reply``, without an output, or when
  the output lacks a field the template names (an error, say), its reply.
- When nothing matched and the definition names a ``knowledge`` search offered in the
  request, the step calls it with ``"query"``, what the customer wrote; once it answered,
  the next step says its ``tool_reply`` filled with the output (the best passage's
  ``text`` and ``source``), or, when the output has no passage, what the rules say.
- A hand-off with a ``tool`` calls it, with its ``arguments`` and ``"reason"``
  (``requested`` or ``not_understood``), in the step that answers with text: a turn ends
  when a person takes the conversation, so what is said comes with the call.

Calls are named ``call_<length of the input>_<n>``, so unique in a conversation. The
history is the ``Said`` items; a turn is the first when no assistant message came before.
A step with nothing to answer (the input ends with the assistant, or, after the first
turn, the customer wrote no letter or digit) has no text and no calls. Usage is estimated
(``adapters/language/local.py``); ``model`` is the one asked for (definitions name
``rules``).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import AsyncIterator, Collection, Iterable, Mapping, Sequence
from typing import Any

import attrs

from adapters.assistant.definition import AssistantDefinition, ToolUse
from adapters.assistant.rules import Rule, Rules, RulesReply
from adapters.language.local import estimated_usage, word_by_word
from talia_core.assistants.language import (
    InputItem,
    ModelEvent,
    ModelReply,
    ModelRequest,
    Role,
    Said,
    ToolCall,
    ToolOutput,
)
from talia_core.knowledge.model import MAX_QUERY_LENGTH

_AUTHORS = {Role.USER: "contact", Role.ASSISTANT: "bot"}
_FIELD = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


class OfflineLanguageModel:
    def __init__(self, definition: AssistantDefinition) -> None:
        self._hand_off = definition.hand_off
        self._knowledge = definition.knowledge
        self._rules = Rules(definition)

    async def complete(self, request: ModelRequest) -> ModelReply:
        step = _Step.of(request.input)
        reply = self._rules.reply(
            step.unanswered,
            step.history,
            first=step.first,
            say=functools.partial(_say, step.outputs),
        )
        offered = {tool.name for tool in request.tools} - step.called
        position = len(request.input)
        uses = [(answer.tool, answer.tool.arguments) for answer in reply.answers if answer.tool]
        calls, text = _calls(uses, offered, position), None
        looked_up = self._look_up(reply, step, offered, position)
        if looked_up is not None:
            calls, text = looked_up
        elif not calls:
            text = "\n\n".join(reply.messages) or None
            calls = self._hand_off_call(reply, offered, position)
        usage = estimated_usage(request, text, calls)
        return ModelReply(text=text, tool_calls=calls, usage=usage, model=request.model)

    async def stream(self, request: ModelRequest) -> AsyncIterator[ModelEvent]:
        async for event in word_by_word(await self.complete(request)):
            yield event

    def _look_up(
        self, reply: RulesReply, step: _Step, offered: Collection[str], position: int
    ) -> tuple[tuple[ToolCall, ...], str | None] | None:
        """The knowledge search's call, or its answer once it answered; None when the
        rules answer."""
        use = self._knowledge
        if use is None or not reply.missed:
            return None
        output = step.outputs.get(use.name)
        if output is not None:
            text = _filled(use.reply or "", output)
            return None if text is None else ((), text)
        query = " ".join(line.text for line in step.unanswered)[:MAX_QUERY_LENGTH]
        calls = _calls([(use, {**use.arguments, "query": query})], offered, position)
        return (calls, None) if calls else None

    def _hand_off_call(
        self, reply: RulesReply, offered: Collection[str], position: int
    ) -> tuple[ToolCall, ...]:
        use = self._hand_off.tool
        if reply.hand_off is None or use is None:
            return ()
        return _calls([(use, {**use.arguments, "reason": reply.hand_off})], offered, position)


@attrs.frozen
class _Line:
    author: str
    text: str


@attrs.frozen
class _Step:
    """The input split where the assistant last spoke: before it, the history; after it,
    the turn, with the customer's messages and the calls of tools made since."""

    history: tuple[_Line, ...]
    unanswered: tuple[_Line, ...]
    first: bool
    called: frozenset[str]  # the tools called in this turn
    outputs: Mapping[str, str]  # tool name -> what it answered in this turn

    @classmethod
    def of(cls, items: Sequence[InputItem]) -> _Step:
        spoke = max(
            (
                i
                for i, item in enumerate(items)
                if isinstance(item, Said) and item.role is Role.ASSISTANT
            ),
            default=-1,
        )
        before, turn = items[: spoke + 1], items[spoke + 1 :]
        names = {item.call_id: item.name for item in turn if isinstance(item, ToolCall)}
        return cls(
            history=tuple(_line(item) for item in before if isinstance(item, Said)),
            unanswered=tuple(_line(item) for item in turn if isinstance(item, Said)),
            first=spoke < 0,
            called=frozenset(names.values()),
            outputs={
                names[item.call_id]: item.output
                for item in turn
                if isinstance(item, ToolOutput) and item.call_id in names
            },
        )


def _line(said: Said) -> _Line:
    return _Line(_AUTHORS[said.role], said.text)


def _calls(
    uses: Iterable[tuple[ToolUse, Mapping[str, Any]]], offered: Collection[str], position: int
) -> tuple[ToolCall, ...]:
    """A call of each tool offered, with the arguments of the first use of it."""
    chosen: dict[str, Mapping[str, Any]] = {}
    for use, arguments in uses:
        if use.name in offered:
            chosen.setdefault(use.name, arguments)
    return tuple(
        ToolCall(f"call_{position}_{n}", name, json.dumps(arguments, ensure_ascii=False))
        for n, (name, arguments) in enumerate(chosen.items())
    )


def _say(outputs: Mapping[str, str], rule: Rule, text: str) -> str:
    use = rule.tool
    if use is None or use.reply is None or use.name not in outputs:
        return text
    return _filled(use.reply, outputs[use.name]) or text


def _filled(template: str, output: str) -> str | None:
    """``template`` with the fields of ``output`` in it, or None when one is missing."""
    try:
        decoded = json.loads(output)
    except ValueError:
        decoded = None
    fields = {
        name: value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        for name, value in (decoded.items() if isinstance(decoded, dict) else ())
    }
    fields["output"] = output
    if any(name not in fields for name in _FIELD.findall(template)):
        return None
    return _FIELD.sub(lambda match: fields[match.group(1)], template)
