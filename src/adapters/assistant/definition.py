"""An offline definition: the rules of the offline assistant and the offline language
model, held as data.

A definition is a JSON object (the shape an assistant row will hold):

    {
      "name": "Talia",                  who speaks
      "language": "es",                 the language of its texts
      "description": "...",             optional, for people
      "greeting": {"reply": "...", "keywords": ["hola", "buenos dias"]},
      "fallback": "...",                said to text that matched nothing
      "media_reply": "...",             said to messages without text (audio, image, ...)
      "hand_off": {
        "keywords": ["una persona", "asesor*"],
        "reply": "...",
        "after_fallbacks": 2,           optional, an integer of at least 1
        "not_understood_reply": "...",  optional, else "reply" is said
        "tool": "handoff_to_human",     optional, and "arguments": as in an answer
      },
      "answers": [
        {"id": "prices", "keywords": ["precio*", "cuanto cuesta"], "reply": "...",
         "follow_up": "...",            optional
         "tool": "catalog_prices",      optional: the tool the answer calls
         "arguments": {"kind": "plan"}, optional, a JSON object; {} when left out
         "tool_reply": "Desde {from}."} optional, said once the tool answered
      ],
      "follow_up_limit": 1              optional, an integer of at least 0; 1 when left out
    }

Keywords are written as ``keywords.py`` says. Every text is non-blank, without control
characters other than line breaks and tabs, and at most 4,096 characters long (what one
message carries; a name 200, a language 35, an answer id 100, a tool name 64 and its
arguments 4,096 as JSON); answer ids are unique, and unknown keys are refused so that a
misspelt one does not go unnoticed. ``load_definition`` and ``parse_definition`` raise
``RuleViolated`` naming every offending path (``answers[2].keywords[0]``) in its detail
and in ``fields``.

``arguments`` and ``tool_reply`` need a ``tool``; a tool name is lower-case letters,
digits and underscores. They are read by the offline language model only
(``adapters/language/offline.py`` says how); the offline assistant answers with ``reply``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from adapters.assistant.keywords import MAX_KEYWORD, Keywords, keyword_words
from talia_core.conversations.messages import MAX_TEXT
from talia_core.shared.errors import RuleViolated
from talia_core.shared.text import required_text

MAX_TOOL_NAME = 64
_TOOL_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_TOOL_KEYS = ("tool", "arguments", "tool_reply")
_ABSENT = object()


@attrs.frozen
class ToolUse:
    """A tool a rule calls: its name, the arguments it is called with, and what the rule
    says once the tool answered (a template; None: the rule's reply)."""

    name: str
    arguments: Mapping[str, Any] = attrs.field(factory=dict)
    reply: str | None = None


@attrs.frozen
class Greeting:
    reply: str
    keywords: Keywords


@attrs.frozen
class HandOff:
    keywords: Keywords
    reply: str
    not_understood_reply: str
    after_fallbacks: int | None = None
    tool: ToolUse | None = None


@attrs.frozen
class Answer:
    id: str
    keywords: Keywords
    reply: str
    follow_up: str | None = None
    tool: ToolUse | None = None


@attrs.frozen
class AssistantDefinition:
    name: str
    language: str
    greeting: Greeting
    fallback: str
    media_reply: str
    hand_off: HandOff
    answers: tuple[Answer, ...]
    follow_up_limit: int = 1
    description: str | None = None
    knowledge: ToolUse | None = None
    """The search a language model run by these rules makes when nothing matched, before
    falling back: its ``query`` is what the customer wrote; its reply quotes the passage."""


# --- reading a definition ---------------------------------------------------------------


def load_definition(source: Path | bytes | str) -> AssistantDefinition:
    """Read a definition from a JSON file (a ``Path``) or from JSON text (``bytes``, ``str``)."""
    label = "assistant definition"
    if isinstance(source, Path):
        label = f"assistant definition {source.name}"
        try:
            source = source.read_bytes()
        except OSError as error:
            raise RuleViolated(
                f"{label} cannot be read: {error.strerror}", {"definition": "unreadable"}
            ) from None
    try:
        data = json.loads(source)
    except (ValueError, RecursionError) as error:
        raise RuleViolated(f"{label} is not JSON: {error}", {"definition": "not JSON"}) from None
    return parse_definition(data, label=label)


def parse_definition(data: Any, *, label: str = "assistant definition") -> AssistantDefinition:
    """Check decoded JSON (a stored row's column) and build the definition it describes."""
    if not isinstance(data, dict):
        raise RuleViolated(f"{label} must be a JSON object", {"definition": "not an object"})
    check = _Checker()
    definition = check.definition(data)
    if check.errors:
        listed = "; ".join(f"{path}: {reason}" for path, reason in check.errors.items())
        raise RuleViolated(f"{label} is invalid: {listed}", check.errors)
    return definition


def _at(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


class _Checker:
    """Reads the definition's parts, noting every fault by its path instead of stopping."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def fail(self, path: str, reason: str) -> None:
        self.errors.setdefault(path or "definition", reason)

    def definition(self, data: Mapping[str, Any]) -> AssistantDefinition:
        top = self.fields(
            data,
            "",
            required=("name", "language", "greeting", "fallback", "media_reply", "hand_off"),
            optional=("description", "answers", "follow_up_limit", "knowledge"),
        )
        greeting = self.fields(
            top.get("greeting", _ABSENT), "greeting", required=("reply", "keywords")
        )
        hand_off = self.fields(
            top.get("hand_off", _ABSENT),
            "hand_off",
            required=("keywords", "reply"),
            optional=("after_fallbacks", "not_understood_reply", "tool", "arguments"),
        )
        hand_off_reply = self.text(hand_off, "reply", "hand_off")
        follow_up_limit = self.integer(top, "follow_up_limit", "", least=0)
        return AssistantDefinition(
            name=self.text(top, "name", "", max_length=200),
            language=self.text(top, "language", "", max_length=35),
            description=self.optional_text(top, "description", ""),
            greeting=Greeting(
                reply=self.text(greeting, "reply", "greeting"),
                keywords=self.keywords(greeting, "greeting"),
            ),
            fallback=self.text(top, "fallback", ""),
            media_reply=self.text(top, "media_reply", ""),
            hand_off=HandOff(
                keywords=self.keywords(hand_off, "hand_off"),
                reply=hand_off_reply,
                not_understood_reply=self.optional_text(
                    hand_off, "not_understood_reply", "hand_off"
                )
                or hand_off_reply,
                after_fallbacks=self.integer(hand_off, "after_fallbacks", "hand_off", least=1),
                tool=self.tool(hand_off, "hand_off"),
            ),
            answers=self.answers(top.get("answers", [])),
            follow_up_limit=1 if follow_up_limit is None else follow_up_limit,
            knowledge=self.knowledge(top.get("knowledge", _ABSENT)),
        )

    def knowledge(self, data: Any) -> ToolUse | None:
        if data is _ABSENT:
            return None
        fields = self.fields(data, "knowledge", required=("tool", "tool_reply"))
        return self.tool(fields, "knowledge")

    def answers(self, data: Any) -> tuple[Answer, ...]:
        if not isinstance(data, list):
            self.fail("answers", "must be a list")
            return ()
        answers: list[Answer] = []
        seen: set[str] = set()
        for index, item in enumerate(data):
            path = _at("answers", index)
            fields = self.fields(
                item,
                path,
                required=("id", "keywords", "reply"),
                optional=("follow_up", *_TOOL_KEYS),
            )
            answer = Answer(
                id=self.text(fields, "id", path, max_length=100),
                keywords=self.keywords(fields, path),
                reply=self.text(fields, "reply", path),
                follow_up=self.optional_text(fields, "follow_up", path),
                tool=self.tool(fields, path),
            )
            if answer.id in seen:
                self.fail(_at(path, "id"), f"repeats the id {answer.id!r}")
            seen.add(answer.id)
            answers.append(answer)
        return tuple(answers)

    def fields(
        self,
        data: Any,
        path: str,
        *,
        required: Sequence[str],
        optional: Sequence[str] = (),
    ) -> Mapping[str, Any]:
        if data is _ABSENT:
            return {}  # noted as missing by ``fields`` of the part that holds it
        if not isinstance(data, dict):
            self.fail(path, "must be an object")
            return {}
        for key in data:
            if key not in required and key not in optional:
                self.fail(_at(path, str(key)), "is not a known key")
        for key in required:
            if key not in data:
                self.fail(_at(path, key), "is missing")
        return data

    def text(
        self, fields: Mapping[str, Any], key: str, path: str, *, max_length: int = MAX_TEXT
    ) -> str:
        if key not in fields:
            return ""  # noted as missing by ``fields``, or the part itself was wrong
        value = fields[key]
        where = _at(path, key)
        if not isinstance(value, str):
            self.fail(where, "must be a string")
            return ""
        return self._checked(where, value, max_length)

    def optional_text(self, fields: Mapping[str, Any], key: str, path: str) -> str | None:
        if key not in fields:
            return None
        value = fields[key]
        if not isinstance(value, str):
            self.fail(_at(path, key), "must be a string")
            return None
        return self._checked(_at(path, key), value, MAX_TEXT) or None

    def _checked(self, where: str, value: str, max_length: int) -> str:
        try:
            return required_text(where, value, max_length)
        except RuleViolated as error:
            self.fail(where, error.fields.get(where, error.detail))
            return ""

    def integer(
        self,
        fields: Mapping[str, Any],
        key: str,
        path: str,
        *,
        least: int,
    ) -> int | None:
        if key not in fields:
            return None
        value = fields[key]
        if not isinstance(value, int) or isinstance(value, bool) or value < least:
            self.fail(_at(path, key), f"must be an integer of at least {least}")
            return None
        return value

    def tool(self, fields: Mapping[str, Any], path: str) -> ToolUse | None:
        if "tool" not in fields:
            for key in ("arguments", "tool_reply"):
                if key in fields:
                    self.fail(_at(path, key), "needs a tool")
            return None
        name = self.text(fields, "tool", path, max_length=MAX_TOOL_NAME)
        if name and not _TOOL_NAME.match(name):
            self.fail(_at(path, "tool"), "must be a tool name, like 'catalog_prices'")
        arguments = fields.get("arguments", {})
        if not isinstance(arguments, dict):
            self.fail(_at(path, "arguments"), "must be an object")
            arguments = {}
        elif len(json.dumps(arguments, ensure_ascii=False)) > MAX_TEXT:
            self.fail(_at(path, "arguments"), f"must be at most {MAX_TEXT} characters as JSON")
        return ToolUse(name, arguments, self.optional_text(fields, "tool_reply", path))

    def keywords(self, fields: Mapping[str, Any], path: str) -> Keywords:
        where = _at(path, "keywords")
        if "keywords" not in fields:
            return Keywords.of(())
        value = fields["keywords"]
        if not isinstance(value, list) or not value:
            self.fail(where, "must be a list of at least one keyword")
            return Keywords.of(())
        phrases: list[str] = []
        for index, phrase in enumerate(value):
            spot = _at(where, index)
            if not isinstance(phrase, str):
                self.fail(spot, "must be a string")
            elif len(phrase) > MAX_KEYWORD:
                self.fail(spot, f"must be at most {MAX_KEYWORD} characters")
            else:
                try:
                    keyword_words(phrase)
                except ValueError as error:
                    self.fail(spot, str(error))
                else:
                    phrases.append(phrase)
        return Keywords.of(phrases)
