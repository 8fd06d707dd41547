"""Evaluation cases read from JSON Lines: one case a line, blank lines skipped.

    {"name": "precios", "messages": ["hola", ["precios", "del plan"]], "channel": "webchat",
     "expect": {"tools": [{"name": "catalog_prices", "arguments": {"kind": "plan"}}],
                "hand_off": false, "assistant": "recepcion", "contains": ["S/ 49"],
                "not_contains": ["yape"], "max_steps": 2}}

``messages`` holds the turns: a string is a turn of one message, a list a turn of several.
``channel`` (webchat unless given), ``assistant`` (the one to start with instead of the
evaluated one) and ``contact_name`` are optional; ``expect`` names at least one check, a
tool as its name or as ``{"name", "arguments"}``. Every bad line is reported with its
number (``BadCases``), never just the first.

An eval set an assistant carries holds its cases as data of the same shape
(``cases_from_data``, a ``RuleViolated`` naming each bad case ``cases[i]``), stored as
``case_data`` writes them back.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from typing import Any

from talia_core.assistants.definition import MAX_TOOL_NAME_LENGTH, Channel, slug
from talia_core.assistants.eval_sets import MAX_EVAL_CASES
from talia_core.assistants.evaluation import EvalCase, Expectations, ExpectedCall
from talia_core.shared.errors import Malformed, RuleViolated
from talia_core.shared.text import required_text

MAX_CASE_NAME_LENGTH = 100
MAX_MESSAGE_LENGTH = 4_096
MAX_PHRASE_LENGTH = 500
_CASE_FIELDS = {"name", "messages", "channel", "assistant", "contact_name", "expect"}
_EXPECT_FIELDS = {"tools", "hand_off", "assistant", "contains", "not_contains", "max_steps"}
_CALL_FIELDS = {"name", "arguments"}


class BadCases(Malformed):
    """Lines that are not cases; ``problems`` says what is wrong with each, by number."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(self.problems))


class _Bad(Exception):
    """What is wrong with one line."""


def parse_cases(lines: Iterable[str]) -> tuple[EvalCase, ...]:
    """The cases of a JSON Lines text, in order; ``BadCases`` when a line is not one, a
    name is used twice or there is no case at all."""
    cases, problems = _gathered(
        (f"line {number}", partial(_line, line))
        for number, line in enumerate(lines, start=1)
        if line.strip()
    )
    if not cases and not problems:
        raise BadCases(["no case: write one JSON object a line"])
    if problems:
        raise BadCases(f"{where}: {what}" for where, what in problems.items())
    return cases


def cases_from_data(values: Sequence[object]) -> tuple[EvalCase, ...]:
    """The cases of an eval set, each the data of one line of a JSON Lines file; a
    ``RuleViolated`` naming each bad case by its place (``cases[0]`` the first), a name
    used twice, no case or more than ``MAX_EVAL_CASES``."""
    if len(values) > MAX_EVAL_CASES:
        raise RuleViolated(
            f"an eval set holds at most {MAX_EVAL_CASES} cases", {"cases": "too many"}
        )
    cases, problems = _gathered(
        (f"cases[{index}]", partial(_case, value)) for index, value in enumerate(values)
    )
    if not cases and not problems:
        raise RuleViolated("an eval set holds at least one case", {"cases": "empty"})
    if problems:
        raise RuleViolated(
            "; ".join(f"{where}: {what}" for where, what in problems.items()), problems
        )
    return cases


def case_data(case: EvalCase) -> dict[str, Any]:
    """``case`` as the data ``cases_from_data`` reads back equal; defaults left out."""
    data: dict[str, Any] = {
        "name": case.name,
        "messages": [turn[0] if len(turn) == 1 else list(turn) for turn in case.turns],
        "channel": case.channel.value,
    }
    if case.assistant is not None:
        data["assistant"] = case.assistant
    if case.contact_name is not None:
        data["contact_name"] = case.contact_name
    expect = case.expect
    checks: dict[str, Any] = {
        "tools": None
        if expect.tools is None
        else [
            {"name": call.name, "arguments": dict(call.arguments)} if call.arguments else call.name
            for call in expect.tools
        ],
        "hand_off": expect.hand_off,
        "assistant": expect.assistant,
        "contains": list(expect.contains) or None,
        "not_contains": list(expect.not_contains) or None,
        "max_steps": expect.max_steps,
    }
    data["expect"] = {name: value for name, value in checks.items() if value is not None}
    return data


def _gathered(
    read: Iterable[tuple[str, Callable[[], EvalCase]]],
) -> tuple[tuple[EvalCase, ...], dict[str, str]]:
    """The cases read, and what is wrong with the others, by where each one is."""
    cases: list[EvalCase] = []
    problems: dict[str, str] = {}
    named: dict[str, str] = {}
    for where, case_of in read:
        try:
            case = case_of()
        except _Bad as bad:
            problems[where] = str(bad)
            continue
        if case.name in named:
            problems[where] = f"the name {case.name!r} is taken by {named[case.name]}"
            continue
        named[case.name] = where
        cases.append(case)
    return tuple(cases), problems


def _line(line: str) -> EvalCase:
    try:
        value = json.loads(line)
    except json.JSONDecodeError as error:
        raise _Bad(f"not JSON: {error.msg} at column {error.colno}") from None
    return _case(value)


def _case(value: object) -> EvalCase:
    fields = _object("a case", value, _CASE_FIELDS)
    try:
        return EvalCase(
            name=required_text("name", _text("name", fields.get("name")), MAX_CASE_NAME_LENGTH),
            turns=_turns(fields.get("messages")),
            expect=_expectations(fields.get("expect")),
            channel=_channel(fields.get("channel", Channel.WEBCHAT.value)),
            assistant=_slug("assistant", fields.get("assistant")),
            contact_name=_optional_text("contact_name", fields.get("contact_name")),
        )
    except RuleViolated as broken:
        raise _Bad(broken.detail) from None


def _object(what: str, value: object, known: set[str]) -> Mapping[str, object]:
    if not isinstance(value, dict):
        raise _Bad(f"{what} is a JSON object")
    unknown = sorted(set(value) - known)
    if unknown:
        raise _Bad(f"{what} has no field {unknown[0]!r}; it has {', '.join(sorted(known))}")
    return value


def _text(field: str, value: object) -> str:
    if not isinstance(value, str):
        raise _Bad(f"{field} is a string")
    return value


def _optional_text(field: str, value: object) -> str | None:
    return None if value is None else _text(field, value)


def _slug(field: str, value: object) -> str | None:
    return None if value is None else slug(field, _text(field, value))


def _texts(field: str, value: object, max_length: int) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise _Bad(f"{field} is a list of strings")
    return tuple(required_text(field, _text(field, item), max_length) for item in value)


def _turns(value: object) -> tuple[tuple[str, ...], ...]:
    if not isinstance(value, list) or not value:
        raise _Bad("messages is a list of turns: a string, or a list of strings, each")
    turns = tuple(
        _texts("messages", item, MAX_MESSAGE_LENGTH)
        if isinstance(item, list)
        else (required_text("messages", _text("messages", item), MAX_MESSAGE_LENGTH),)
        for item in value
    )
    if not all(turns):
        raise _Bad("messages has an empty turn")
    return turns


def _channel(value: object) -> Channel:
    try:
        return Channel(_text("channel", value))
    except ValueError:
        raise _Bad(f"channel is one of {', '.join(c.value for c in Channel)}") from None


def _expectations(value: object) -> Expectations:
    fields = _object("expect", value, _EXPECT_FIELDS)
    if not fields:
        raise _Bad(f"expect names at least one of {', '.join(sorted(_EXPECT_FIELDS))}")
    tools = fields.get("tools")
    if tools is not None and not isinstance(tools, list):
        raise _Bad("expect.tools is a list of tools")
    hand_off = fields.get("hand_off")
    if hand_off is not None and not isinstance(hand_off, bool):
        raise _Bad("expect.hand_off is true or false")
    return Expectations(
        tools=None if tools is None else tuple(_call(item) for item in tools),
        hand_off=hand_off,
        assistant=_slug("expect.assistant", fields.get("assistant")),
        contains=_texts("expect.contains", fields.get("contains", []), MAX_PHRASE_LENGTH),
        not_contains=_texts(
            "expect.not_contains", fields.get("not_contains", []), MAX_PHRASE_LENGTH
        ),
        max_steps=_max_steps(fields.get("max_steps")),
    )


def _call(value: object) -> ExpectedCall:
    if isinstance(value, str):
        return ExpectedCall(required_text("expect.tools", value, MAX_TOOL_NAME_LENGTH))
    fields = _object("a tool of expect.tools", value, _CALL_FIELDS)
    name = required_text(
        "expect.tools", _text("a tool's name", fields.get("name")), MAX_TOOL_NAME_LENGTH
    )
    arguments = fields.get("arguments", {})
    if not isinstance(arguments, dict):
        raise _Bad(f"the arguments of {name} are a JSON object")
    return ExpectedCall(name, arguments)


def _max_steps(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _Bad("expect.max_steps is a whole number, 1 or more")
    return value
