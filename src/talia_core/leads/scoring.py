"""The score: a pure function of a lead's facts and its criteria, and the stage it implies."""

from __future__ import annotations

from collections.abc import Mapping

from talia_core.leads.criteria import Criteria, FactValue
from talia_core.leads.stages import Stage


def score(facts: Mapping[str, FactValue], criteria: Criteria) -> int:
    """The sum of the weights of the facts that meet their rule; facts the criteria do not
    name count for nothing."""
    return sum(rule.weight for rule in criteria.facts if rule.met_by(facts.get(rule.name)))


def disqualified(facts: Mapping[str, FactValue], criteria: Criteria) -> bool:
    """A required fact is known and misses its rule."""
    return any(
        rule.required and rule.name in facts and not rule.met_by(facts[rule.name])
        for rule in criteria.facts
    )


def assessed_stage(facts: Mapping[str, FactValue], criteria: Criteria) -> Stage:
    """Where the facts alone put a lead that no one has moved past qualification."""
    if disqualified(facts, criteria):
        return Stage.DISQUALIFIED
    points = score(facts, criteria)
    if points >= criteria.qualified_at:
        return Stage.QUALIFIED
    if points >= criteria.qualifying_at or facts:
        return Stage.QUALIFYING
    return Stage.NEW
