"""Qualification criteria held as data: the facts that matter, each with a rule and a
weight, and the score at which a lead is qualified.

Criteria are a JSON object on an assistant definition (its ``leads`` block):

    {
      "business_line": "bodas",             optional, "default" when left out
      "qualifying_at": 1,                   score from which a new lead is qualifying
      "qualified_at": 60,                   score from which it is qualified
      "facts": [
        {"name": "guest_count", "kind": "count", "weight": 20, "min": 30,
         "label": "Invitados", "near": ["invitados", "personas"]},
        {"name": "plan", "kind": "choice", "weight": 20,
         "choices": {"premium": ["premium"], "basico": ["basico", "básico"]}},
        {"name": "budget", "kind": "money", "weight": 25, "min": 50000, "required": true}
      ]
    }

Kinds: ``date`` (ISO date), ``count`` (whole number), ``money`` (integer céntimos of
soles), ``choice`` (one of ``choices``' keys; the phrases are what the extraction rules
look for) and ``text``. ``min``/``max`` bound a count, an amount or a date (ISO); a fact
meets its rule when it is known and within them. A ``required`` fact that is known and
misses its rule disqualifies the lead. ``near`` lists the words a number or a date must
come with in a message for the extraction rules to take it for this fact.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import attrs

from talia_core.shared.errors import RuleViolated

MAX_FACTS = 20
MAX_WEIGHT = 100
MAX_NAME_LENGTH = 40
MAX_TEXT_FACT_LENGTH = 200
MAX_PHRASES = 30
MAX_PHRASE_LENGTH = 60
MAX_COUNT = 1_000_000
MAX_AMOUNT = 10_000_000_000
"""A hundred million soles in céntimos: more is a typo."""
DEFAULT_LINE = "default"
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")

FactValue = str | int
"""What a fact holds: an ISO date, a text or a choice as text; a count or céntimos as int."""


class FactKind(enum.StrEnum):
    DATE = "date"
    COUNT = "count"
    MONEY = "money"
    CHOICE = "choice"
    TEXT = "text"


def fold(text: str) -> str:
    """Lower-case without accents: how phrases and messages are compared."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@attrs.frozen
class FactRule:
    name: str
    kind: FactKind
    weight: int
    minimum: FactValue | None = None
    maximum: FactValue | None = None
    choices: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict)
    near: tuple[str, ...] = ()
    required: bool = False
    label: str | None = None

    def checked(self, value: object) -> FactValue:
        """``value`` as this fact holds it; ``RuleViolated`` naming the fact otherwise."""
        field = f"facts.{self.name}"
        if self.kind in (FactKind.COUNT, FactKind.MONEY):
            most = MAX_COUNT if self.kind is FactKind.COUNT else MAX_AMOUNT
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= most:
                raise RuleViolated(
                    f"{self.name} must be a whole number between 0 and {most}",
                    {field: "not a whole number in range"},
                )
            return value
        if not isinstance(value, str) or not value.strip():
            raise RuleViolated(f"{self.name} must be a non-blank text", {field: "not a text"})
        cleaned = value.strip()
        if self.kind is FactKind.DATE:
            try:
                return date.fromisoformat(cleaned).isoformat()
            except ValueError:
                raise RuleViolated(
                    f"{self.name} must be a date like 2027-02-14", {field: "not a date"}
                ) from None
        if self.kind is FactKind.CHOICE:
            key = fold(cleaned)
            if key not in self.choices:
                known = ", ".join(self.choices)
                raise RuleViolated(f"{self.name} must be one of {known}", {field: "unknown"})
            return key
        if len(cleaned) > MAX_TEXT_FACT_LENGTH:
            raise RuleViolated(
                f"{self.name} must be at most {MAX_TEXT_FACT_LENGTH} characters",
                {field: "too long"},
            )
        return cleaned

    def met_by(self, value: FactValue | None) -> bool:
        """Known and within ``minimum``/``maximum`` (ISO dates compare as text)."""
        if value is None:
            return False
        if self.minimum is not None and _below(value, self.minimum):
            return False
        return self.maximum is None or not _below(self.maximum, value)


def _below(value: FactValue, bound: FactValue) -> bool:
    if isinstance(value, int) and isinstance(bound, int):
        return value < bound
    return str(value) < str(bound)


@attrs.frozen
class Criteria:
    """How leads of one business line are scored: see the module's description."""

    facts: tuple[FactRule, ...]
    qualified_at: int
    qualifying_at: int = 1
    business_line: str = DEFAULT_LINE

    def rule(self, name: str) -> FactRule | None:
        return next((rule for rule in self.facts if rule.name == name), None)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(rule.name for rule in self.facts)


NO_CRITERIA = Criteria(facts=(), qualified_at=MAX_WEIGHT * MAX_FACTS + 1)
"""Where no assistant gives criteria: facts are not scored and no lead qualifies by itself."""


def parse_criteria(data: Mapping[str, Any], prefix: str = "leads") -> Criteria:
    """Criteria from their JSON shape; ``RuleViolated`` naming the path of what is wrong."""
    if not isinstance(data, Mapping):
        raise _bad(prefix, "must be an object")
    _only(data, prefix, {"business_line", "qualifying_at", "qualified_at", "facts"})
    facts_data = data.get("facts")
    if not isinstance(facts_data, Sequence) or isinstance(facts_data, str) or not facts_data:
        raise _bad(f"{prefix}.facts", "must be a non-empty list")
    if len(facts_data) > MAX_FACTS:
        raise _bad(f"{prefix}.facts", f"lists at most {MAX_FACTS} facts")
    facts = tuple(_fact(item, f"{prefix}.facts[{i}]") for i, item in enumerate(facts_data))
    if len({rule.name for rule in facts}) != len(facts):
        raise _bad(f"{prefix}.facts", "names a fact twice")
    line = data.get("business_line", DEFAULT_LINE)
    if not isinstance(line, str) or not _NAME.match(line) or len(line) > MAX_NAME_LENGTH:
        raise _bad(f"{prefix}.business_line", "must be lower-case letters, digits and _")
    total = sum(rule.weight for rule in facts)
    qualified = _whole(data.get("qualified_at"), f"{prefix}.qualified_at", 1, total)
    qualifying = _whole(data.get("qualifying_at", 1), f"{prefix}.qualifying_at", 1, qualified)
    return Criteria(
        facts=facts, qualified_at=qualified, qualifying_at=qualifying, business_line=line
    )


def _fact(data: object, at: str) -> FactRule:
    if not isinstance(data, Mapping):
        raise _bad(at, "must be an object")
    _only(
        data,
        at,
        {"name", "kind", "weight", "min", "max", "choices", "near", "required", "label"},
    )
    name = data.get("name")
    if not isinstance(name, str) or not _NAME.match(name) or len(name) > MAX_NAME_LENGTH:
        raise _bad(f"{at}.name", "must be lower-case letters, digits and _")
    try:
        kind = FactKind(str(data.get("kind")))
    except ValueError:
        raise _bad(f"{at}.kind", f"must be one of {', '.join(FactKind)}") from None
    rule = FactRule(
        name=name,
        kind=kind,
        weight=_whole(data.get("weight"), f"{at}.weight", 0, MAX_WEIGHT),
        choices=_choices(data.get("choices"), f"{at}.choices", kind),
        near=_phrases(data.get("near", []), f"{at}.near"),
        required=_flag(data.get("required", False), f"{at}.required"),
        label=_label(data.get("label"), f"{at}.label"),
    )
    return attrs.evolve(
        rule, minimum=_bound(rule, data, "min", at), maximum=_bound(rule, data, "max", at)
    )


def _bound(rule: FactRule, data: Mapping[str, Any], key: str, at: str) -> FactValue | None:
    if key not in data:
        return None
    if rule.kind in (FactKind.CHOICE, FactKind.TEXT):
        raise _bad(f"{at}.{key}", f"a {rule.kind.value} fact has no bounds")
    try:
        return rule.checked(data[key])
    except RuleViolated:
        raise _bad(f"{at}.{key}", f"must be a {rule.kind.value} value") from None


def _choices(data: object, at: str, kind: FactKind) -> dict[str, tuple[str, ...]]:
    if kind is not FactKind.CHOICE:
        if data is not None:
            raise _bad(at, "only a choice fact has choices")
        return {}
    if not isinstance(data, Mapping) or not data:
        raise _bad(at, "must map each choice to the phrases that name it")
    choices = {}
    for key, phrases in data.items():
        if not isinstance(key, str) or fold(key) != key or not key.strip():
            raise _bad(f"{at}.{key}", "a choice is lower-case without accents")
        choices[key] = _phrases(phrases, f"{at}.{key}")
    return choices


def _phrases(data: object, at: str) -> tuple[str, ...]:
    if not isinstance(data, Sequence) or isinstance(data, str) or len(data) > MAX_PHRASES:
        raise _bad(at, f"must be a list of at most {MAX_PHRASES} phrases")
    phrases = []
    for i, phrase in enumerate(data):
        if not isinstance(phrase, str) or not phrase.strip() or len(phrase) > MAX_PHRASE_LENGTH:
            raise _bad(f"{at}[{i}]", f"must be a phrase of 1 to {MAX_PHRASE_LENGTH} characters")
        phrases.append(fold(phrase.strip()))
    return tuple(phrases)


def _whole(value: object, at: str, least: int, most: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not least <= value <= most:
        raise _bad(at, f"must be a whole number between {least} and {most}")
    return value


def _flag(value: object, at: str) -> bool:
    if not isinstance(value, bool):
        raise _bad(at, "must be true or false")
    return value


def _label(value: object, at: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_PHRASE_LENGTH:
        raise _bad(at, f"must be a text of 1 to {MAX_PHRASE_LENGTH} characters")
    return value.strip()


def _only(data: Mapping[str, Any], at: str, known: set[str]) -> None:
    unknown = sorted(set(data) - known)
    if unknown:
        raise _bad(f"{at}.{unknown[0]}", "is not a known key")


def _bad(at: str, problem: str) -> RuleViolated:
    return RuleViolated(f"{at} {problem}", {at: problem})
