"""A tool call's arguments are checked against the tool's schema before it runs."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from talia_core.assistants.arguments import BadArguments, parsed_arguments

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "order": {"type": "string", "minLength": 3, "maxLength": 12},
        "guests": {"type": "integer", "minimum": 1, "maximum": 500},
        "urgent": {"type": "boolean"},
        "dates": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["order"],
    "additionalProperties": False,
}


def test_arguments_that_fit_are_handed_over_as_an_object() -> None:
    text = json.dumps({"order": "PE-1", "guests": 120, "urgent": False, "dates": ["2027-02-14"]})

    assert parsed_arguments(text, SCHEMA)["guests"] == 120


def test_empty_arguments_are_an_empty_object() -> None:
    assert parsed_arguments("", {"type": "object"}) == {}


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        ('"PE-1"', "must be a JSON object"),
        ('{"order": 12}', "arguments.order must be of type string"),
        ('{"order": "PE"}', "at least 3 characters"),
        ('{"order": "PE-1", "guests": true}', "arguments.guests must be of type integer"),
        ('{"order": "PE-1", "guests": 0}', "at least 1"),
        ('{"order": "PE-1", "guests": 501}', "at most 500"),
        ('{"order": "PE-1", "dates": [1]}', "arguments.dates[0] must be of type string"),
        ('{"order": "PE-1", "contact_id": "x"}', "arguments.contact_id is not a known argument"),
        ("{", "not JSON"),
    ],
)
def test_arguments_that_do_not_fit_say_what_is_wrong(arguments: str, problem: str) -> None:
    with pytest.raises(BadArguments, match=problem.replace("[", r"\[").replace("]", r"\]")):
        parsed_arguments(arguments, SCHEMA)


def test_every_problem_is_listed_at_once() -> None:
    with pytest.raises(BadArguments) as refused:
        parsed_arguments('{"guests": "many", "x": 1}', SCHEMA)

    assert len(refused.value.problems) == 3


def _problems(text: str) -> list[str] | None:
    try:
        parsed_arguments(text, SCHEMA)
    except BadArguments as refused:
        return refused.problems
    return None


@given(st.text(max_size=40))
def test_any_text_is_either_arguments_or_a_refusal_never_a_crash(text: str) -> None:
    assert _problems(text) != []
