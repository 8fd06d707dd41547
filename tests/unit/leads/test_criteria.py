"""Criteria are data: what is wrong in them is refused naming its path."""

from __future__ import annotations

from typing import Any

import pytest

from talia_core.leads.criteria import FactKind, parse_criteria
from talia_core.shared.errors import RuleViolated
from tests.unit.leads.builders import CRITERIA, DEMO


def test_the_demo_criteria_read_as_their_facts() -> None:
    assert DEMO.business_line == "bodas"
    assert DEMO.names == ("wedding_date", "guest_count", "budget", "plan", "decision_maker")
    assert DEMO.rule("plan") is not None
    assert DEMO.rule("guest_count").kind is FactKind.COUNT  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"facts": []}, "leads.facts"),
        ({"qualified_at": 1000}, "leads.qualified_at"),
        ({"qualified_at": "60"}, "leads.qualified_at"),
        ({"colour": "blue"}, "leads.colour"),
        ({"business_line": "Bodas!"}, "leads.business_line"),
    ],
)
def test_a_wrong_top_level_value_is_refused_naming_it(change: dict[str, Any], path: str) -> None:
    with pytest.raises(RuleViolated) as refused:
        parse_criteria({**CRITERIA, **change})
    assert path in refused.value.fields


@pytest.mark.parametrize(
    ("fact", "path"),
    [
        ({"name": "x", "kind": "colour", "weight": 1}, "leads.facts[0].kind"),
        ({"name": "X y", "kind": "count", "weight": 1}, "leads.facts[0].name"),
        ({"name": "x", "kind": "count", "weight": 101}, "leads.facts[0].weight"),
        ({"name": "x", "kind": "count", "weight": True}, "leads.facts[0].weight"),
        ({"name": "x", "kind": "count", "weight": 1, "min": "ten"}, "leads.facts[0].min"),
        ({"name": "x", "kind": "date", "weight": 1, "max": "14/02"}, "leads.facts[0].max"),
        ({"name": "x", "kind": "text", "weight": 1, "min": 1}, "leads.facts[0].min"),
        ({"name": "x", "kind": "choice", "weight": 1}, "leads.facts[0].choices"),
        ({"name": "x", "kind": "count", "weight": 1, "choices": {}}, "leads.facts[0].choices"),
        ({"name": "x", "kind": "count", "weight": 1, "near": "invitados"}, "leads.facts[0].near"),
    ],
)
def test_a_wrong_fact_is_refused_naming_its_path(fact: dict[str, Any], path: str) -> None:
    with pytest.raises(RuleViolated) as refused:
        parse_criteria({"qualified_at": 1, "facts": [fact]})
    assert path in refused.value.fields


def test_a_fact_named_twice_is_refused() -> None:
    fact = {"name": "x", "kind": "count", "weight": 1}
    with pytest.raises(RuleViolated, match="twice"):
        parse_criteria({"qualified_at": 1, "facts": [fact, fact]})


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("guest_count", "120"),
        ("guest_count", 12.5),
        ("guest_count", True),
        ("guest_count", -3),
        ("budget", "S/ 2,500"),
        ("wedding_date", "14 de febrero"),
        ("wedding_date", 20270214),
        ("plan", "gold"),
        ("plan", 3),
    ],
)
def test_a_value_of_the_wrong_type_is_refused_naming_the_fact(name: str, value: object) -> None:
    rule = DEMO.rule(name)
    assert rule is not None
    with pytest.raises(RuleViolated) as refused:
        rule.checked(value)
    assert f"facts.{name}" in refused.value.fields


def test_values_are_kept_as_the_fact_holds_them() -> None:
    assert DEMO.rule("plan").checked(" Premium ") == "premium"  # type: ignore[union-attr]
    assert DEMO.rule("wedding_date").checked("2027-02-14") == "2027-02-14"  # type: ignore[union-attr]
