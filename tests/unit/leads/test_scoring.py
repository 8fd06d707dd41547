"""The score is a pure function of facts and criteria; the stage follows from both."""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from talia_core.leads.criteria import Criteria, FactKind, FactRule, FactValue
from talia_core.leads.scoring import assessed_stage, score
from talia_core.leads.stages import MOVES, Stage, may_move
from tests.unit.leads.builders import DEMO

NAMES = st.sampled_from(["a", "b", "c", "d", "e"])


@st.composite
def criteria(draw: st.DrawFn) -> Criteria:
    names = draw(st.lists(NAMES, min_size=1, max_size=5, unique=True))
    rules = tuple(
        FactRule(
            name=name,
            kind=FactKind.COUNT,
            weight=draw(st.integers(0, 100)),
            minimum=draw(st.none() | st.integers(0, 50)),
        )
        for name in names
    )
    return Criteria(facts=rules, qualified_at=max(1, sum(r.weight for r in rules)))


FACTS = st.dictionaries(NAMES, st.integers(0, 100), max_size=5)


@given(criteria(), FACTS, st.data())
def test_raising_a_weight_never_lowers_the_score(
    rules: Criteria, facts: dict[str, FactValue], data: st.DataObject
) -> None:
    index = data.draw(st.integers(0, len(rules.facts) - 1))
    heavier = list(rules.facts)
    heavier[index] = attrs.evolve(heavier[index], weight=heavier[index].weight + 1)
    assert score(facts, attrs.evolve(rules, facts=tuple(heavier))) >= score(facts, rules)


@given(criteria(), FACTS, NAMES, st.integers(0, 100))
def test_learning_a_fact_that_meets_its_rule_never_lowers_the_score(
    rules: Criteria, facts: dict[str, FactValue], name: str, value: int
) -> None:
    rule = rules.rule(name)
    if name in facts or rule is None or not rule.met_by(value):
        return
    assert score({**facts, name: value}, rules) >= score(facts, rules)


@given(criteria(), FACTS, st.dictionaries(st.sampled_from(["x", "y"]), st.integers()))
def test_the_score_depends_on_the_criteria_facts_only(
    rules: Criteria, facts: dict[str, FactValue], unrelated: dict[str, int]
) -> None:
    assert score({**facts, **unrelated}, rules) == score(facts, rules)
    assert score(dict(reversed(list(facts.items()))), rules) == score(facts, rules)


@given(criteria(), FACTS)
def test_the_score_stays_between_nothing_and_every_weight(
    rules: Criteria, facts: dict[str, FactValue]
) -> None:
    assert 0 <= score(facts, rules) <= sum(rule.weight for rule in rules.facts)


def test_the_demo_facts_qualify_a_wedding_once_their_weights_reach_the_threshold() -> None:
    facts: dict[str, Any] = {"wedding_date": "2027-02-14", "guest_count": 120}
    assert score(facts, DEMO) == 40
    assert assessed_stage(facts, DEMO) is Stage.QUALIFYING
    facts["plan"] = "premium"
    assert score(facts, DEMO) == 60
    assert assessed_stage(facts, DEMO) is Stage.QUALIFIED


def test_a_required_fact_that_misses_its_rule_disqualifies() -> None:
    facts = {"wedding_date": "2027-02-14", "guest_count": 120, "budget": 1000}
    assert assessed_stage(facts, DEMO) is Stage.DISQUALIFIED


def test_a_count_below_its_minimum_counts_for_nothing() -> None:
    assert score({"guest_count": 5}, DEMO) == 0


def test_a_lead_without_facts_is_new() -> None:
    assert assessed_stage({}, DEMO) is Stage.NEW


@pytest.mark.parametrize(
    ("origin", "target", "allowed"),
    [
        (Stage.QUALIFIED, Stage.BOOKED, True),
        (Stage.BOOKED, Stage.WON, True),
        (Stage.NEW, Stage.WON, False),
        (Stage.WON, Stage.LOST, False),
        (Stage.LOST, Stage.QUALIFYING, True),
    ],
)
def test_only_the_allowed_moves_are_allowed(origin: Stage, target: Stage, allowed: bool) -> None:
    assert may_move(origin, target) is allowed


def test_every_stage_is_a_place_in_the_moves() -> None:
    assert set(MOVES) == set(Stage)
    assert all(target is not origin for origin, targets in MOVES.items() for target in targets)
