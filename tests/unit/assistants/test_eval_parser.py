"""Evaluation cases from JSON Lines: good lines become cases, bad ones are named by number."""

from __future__ import annotations

import json
from typing import Any

import pytest

from talia_core.assistants.definition import Channel
from talia_core.assistants.eval_parser import BadCases, case_data, cases_from_data, parse_cases
from talia_core.assistants.eval_sets import MAX_EVAL_CASES
from talia_core.assistants.evaluation import EvalCase, Expectations, ExpectedCall
from talia_core.shared.errors import RuleViolated


def line(**fields: Any) -> str:
    return json.dumps({"name": "precios", "messages": ["hola"], **fields})


def problems(*lines: str) -> tuple[str, ...]:
    with pytest.raises(BadCases) as raised:
        parse_cases(lines)
    return raised.value.problems


def test_a_full_case_is_read_with_its_turns_and_every_expectation() -> None:
    text = line(
        messages=["hola", ["precio", "del plan"]],
        channel="whatsapp",
        assistant="ventas",
        contact_name="Rosa",
        expect={
            "tools": [
                "handoff_to_human",
                {"name": "catalog_prices", "arguments": {"kind": "plan"}},
            ],
            "hand_off": False,
            "assistant": "recepcion",
            "contains": ["S/ 49"],
            "not_contains": ["Yape"],
            "max_steps": 2,
        },
    )

    assert parse_cases([text]) == (
        EvalCase(
            name="precios",
            turns=(("hola",), ("precio", "del plan")),
            expect=Expectations(
                tools=(
                    ExpectedCall("handoff_to_human"),
                    ExpectedCall("catalog_prices", {"kind": "plan"}),
                ),
                hand_off=False,
                assistant="recepcion",
                contains=("S/ 49",),
                not_contains=("Yape",),
                max_steps=2,
            ),
            channel=Channel.WHATSAPP,
            assistant="ventas",
            contact_name="Rosa",
        ),
    )


def test_a_short_case_takes_the_web_chat_and_leaves_the_other_checks_out() -> None:
    [case] = parse_cases(["", line(expect={"hand_off": True}), "   "])

    assert case.channel is Channel.WEBCHAT
    assert case.assistant is None
    assert case.expect == Expectations(hand_off=True)


def test_every_bad_line_is_reported_with_its_number() -> None:
    found = problems(
        line(expect={"hand_off": True}),
        "{not json",
        "",
        "[1, 2]",
        line(name="otro", expect={"hand_off": "yes"}),
    )

    assert found == (
        "line 2: not JSON: Expecting property name enclosed in double quotes at column 2",
        "line 4: a case is a JSON object",
        "line 5: expect.hand_off is true or false",
    )


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"expect": {"hand_off": True}, "toolz": []}, "a case has no field 'toolz'"),
        ({"expect": {"tool": []}}, "expect has no field 'tool'"),
        ({"expect": {}}, "expect names at least one of"),
        ({}, "expect is a JSON object"),
        ({"name": " ", "expect": {"hand_off": True}}, "name must not be blank"),
        ({"messages": [], "expect": {"hand_off": True}}, "messages is a list of turns"),
        ({"messages": [[]], "expect": {"hand_off": True}}, "messages has an empty turn"),
        ({"messages": [3], "expect": {"hand_off": True}}, "messages is a string"),
        ({"channel": "fax", "expect": {"hand_off": True}}, "channel is one of whatsapp"),
        ({"assistant": "Front Desk", "expect": {"hand_off": True}}, "assistant must be"),
        ({"expect": {"tools": "catalog_prices"}}, "expect.tools is a list"),
        ({"expect": {"tools": [{"name": "x", "args": {}}]}}, "has no field 'args'"),
        ({"expect": {"tools": [{"name": "x", "arguments": []}]}}, "arguments of x are"),
        ({"expect": {"contains": "S/ 49"}}, "expect.contains is a list of strings"),
        ({"expect": {"max_steps": 0}}, "expect.max_steps is a whole number"),
        ({"expect": {"max_steps": True}}, "expect.max_steps is a whole number"),
    ],
)
def test_a_line_that_is_not_a_case_says_what_is_wrong(fields: dict[str, Any], problem: str) -> None:
    [found] = problems(line(**fields))

    assert found.startswith("line 1: ")
    assert problem in found


def test_a_name_used_twice_is_reported_on_its_second_line() -> None:
    same = line(expect={"hand_off": True})

    assert problems(same, same) == ("line 2: the name 'precios' is taken by line 1",)


def test_a_file_without_cases_is_refused() -> None:
    assert problems("", "  ") == ("no case: write one JSON object a line",)


FULL = {
    "name": "precios",
    "messages": ["hola", ["precio", "del plan"]],
    "channel": "whatsapp",
    "assistant": "ventas",
    "contact_name": "Rosa",
    "expect": {
        "tools": ["handoff_to_human", {"name": "catalog_prices", "arguments": {"kind": "plan"}}],
        "hand_off": False,
        "assistant": "recepcion",
        "contains": ["S/ 49"],
        "not_contains": ["Yape"],
        "max_steps": 2,
    },
}


def test_an_eval_sets_data_reads_as_its_json_lines_would() -> None:
    data = [FULL, {"name": "saluda", "messages": ["hola"], "expect": {"tools": []}}]

    cases = cases_from_data(data)

    assert cases == parse_cases(json.dumps(case) for case in data)


SHORT = {"name": "corto", "messages": [["solo"]], "expect": {"hand_off": True}}


@pytest.mark.parametrize(
    ("data", "written"),
    [
        pytest.param(FULL, FULL, id="every-field"),
        pytest.param(
            SHORT,
            {
                "name": "corto",
                "messages": ["solo"],
                "channel": "webchat",
                "expect": {"hand_off": True},
            },
            id="short",
        ),
    ],
)
def test_a_case_is_written_back_as_data_that_reads_back_equal(
    data: dict[str, Any], written: dict[str, Any]
) -> None:
    [case] = cases_from_data([data])

    assert case_data(case) == written
    assert cases_from_data([written]) == (case,)


def test_each_bad_case_of_an_eval_set_is_named_by_its_place() -> None:
    good = {"name": "saluda", "messages": ["hola"], "expect": {"hand_off": False}}

    with pytest.raises(RuleViolated) as refused:
        cases_from_data([good, "hola", {**good, "expect": {"max_steps": 0}}, good])

    assert refused.value.fields == {
        "cases[1]": "a case is a JSON object",
        "cases[2]": "expect.max_steps is a whole number, 1 or more",
        "cases[3]": "the name 'saluda' is taken by cases[0]",
    }
    assert refused.value.detail.startswith("cases[1]: a case is a JSON object; cases[2]: ")


@pytest.mark.parametrize(
    ("size", "problem"),
    [(0, "at least one case"), (MAX_EVAL_CASES + 1, f"at most {MAX_EVAL_CASES} cases")],
)
def test_an_eval_set_holds_one_case_or_more_within_its_limit(size: int, problem: str) -> None:
    cases = [
        {"name": f"caso {n}", "messages": ["hola"], "expect": {"hand_off": False}}
        for n in range(size)
    ]

    with pytest.raises(RuleViolated, match=problem) as refused:
        cases_from_data(cases)

    assert set(refused.value.fields) == {"cases"}
