"""A template's field set held as data: a small subset of JSON Schema, checked here.

A schema is an object with ``properties`` (each of type string, number, integer, boolean,
array, or string with ``format: date``; strings may say ``maxLength`` and ``enum``, arrays
``items`` and ``maxItems``) and ``required``. Drafts are checked field by field; the
required fields are asked for only at publishing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import date
from typing import Any

import attrs

from talia_core.shared.errors import RuleViolated
from talia_core.shared.text import CONTROL

TYPES = frozenset({"string", "number", "integer", "boolean", "array"})
MAX_FIELDS = 200
MAX_TEXT = 5_000
"""A string field without its own ``maxLength`` holds at most this many characters."""
MAX_ITEMS = 100
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,59}$")
# Control characters other than tab and line breaks: PostgreSQL cannot even store NUL.


@attrs.frozen
class FieldRule:
    name: str
    type: str
    is_date: bool = False
    max_length: int = MAX_TEXT
    choices: tuple[Any, ...] | None = None
    item: FieldRule | None = None
    """An array's rule for each of its items."""
    max_items: int = MAX_ITEMS

    def problem(self, value: Any) -> str | None:
        """What is wrong with ``value`` for this field, or ``None``."""
        if self.type == "array":
            if not isinstance(value, list):
                return "must be an array"
            if len(value) > self.max_items:
                return f"at most {self.max_items} items"
            item = self.item or FieldRule(self.name, "string")
            return next((f"item: {p}" for v in value if (p := item.problem(v))), None)
        wrong = _type_problem(self.type, value)
        if wrong is not None:
            return wrong
        if isinstance(value, float) and not math.isfinite(value):
            return "must be a finite number"
        if isinstance(value, str):
            if CONTROL.search(value):
                return "must not contain control characters"
            if len(value) > self.max_length:
                return f"at most {self.max_length} characters"
            if self.is_date and not _is_date(value):
                return "must be a date (YYYY-MM-DD)"
        if self.choices is not None and value not in self.choices:
            return "must be one of " + ", ".join(str(c) for c in self.choices)
        return None


def _type_problem(kind: str, value: Any) -> str | None:
    fits = {
        "string": isinstance(value, str),
        "boolean": isinstance(value, bool),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "number": isinstance(value, int | float) and not isinstance(value, bool),
    }
    return None if fits[kind] else f"must be a {kind}"


def _is_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10


@attrs.frozen
class FieldSchema:
    fields: Mapping[str, FieldRule]
    required: frozenset[str]

    @classmethod
    def parse(cls, schema: Mapping[str, Any]) -> FieldSchema:
        """The rules a schema document states; ``RuleViolated`` on ``fields`` when it is not
        one this subset reads."""
        if schema.get("type", "object") != "object" or not isinstance(
            schema.get("properties"), Mapping
        ):
            raise _bad_schema("must be an object schema with properties")
        properties: Mapping[str, Any] = schema["properties"]
        if not properties or len(properties) > MAX_FIELDS:
            raise _bad_schema(f"1 to {MAX_FIELDS} properties")
        rules = {name: _rule(name, spec) for name, spec in properties.items()}
        required = schema.get("required", [])
        if not isinstance(required, list) or any(name not in rules for name in required):
            raise _bad_schema("required names properties the schema has")
        return cls(rules, frozenset(required))

    def check(self, data: Mapping[str, Any], *, complete: bool) -> None:
        """Refuse unknown fields and values of the wrong kind, naming each; ``complete``
        also asks for every required field (publishing). A ``None`` value clears a field."""
        problems: dict[str, str] = {}
        for name, value in data.items():
            rule = self.fields.get(name)
            if rule is None:
                problems[name] = "unknown field"
            elif value is not None and (problem := rule.problem(value)) is not None:
                problems[name] = problem
        if complete:
            for name in sorted(self.required):
                if data.get(name) in (None, "", []):
                    problems[name] = "required"
        if problems:
            raise RuleViolated(
                "the invitation's data does not fit its template: " + ", ".join(sorted(problems)),
                {f"data.{name}": problem for name, problem in problems.items()},
            )


def _bad_schema(why: str) -> RuleViolated:
    return RuleViolated(f"the template's field schema is not valid: {why}", {"fields": why})


def _rule(name: str, spec: Any) -> FieldRule:
    if not isinstance(name, str) or not _NAME.match(name):
        raise _bad_schema(f"property {name!r} must be snake_case")
    if not isinstance(spec, Mapping) or spec.get("type") not in TYPES:
        raise _bad_schema(f"property {name!r} needs a type among {sorted(TYPES)}")
    kind = str(spec["type"])
    max_length = spec.get("maxLength", MAX_TEXT)
    choices = spec.get("enum")
    items = spec.get("items", {"type": "string"})
    if not isinstance(max_length, int) or not 1 <= max_length <= MAX_TEXT:
        raise _bad_schema(f"property {name!r}: maxLength is 1 to {MAX_TEXT}")
    if choices is not None and (not isinstance(choices, list) or not choices):
        raise _bad_schema(f"property {name!r}: enum is a non-empty list")
    item = None
    if kind == "array":
        if not isinstance(items, Mapping) or items.get("type") not in TYPES - {"array"}:
            raise _bad_schema(f"property {name!r}: items need a scalar type")
        item = _rule(name, items)
    max_items = spec.get("maxItems", MAX_ITEMS)
    if not isinstance(max_items, int) or not 0 <= max_items <= MAX_ITEMS:
        raise _bad_schema(f"property {name!r}: maxItems is 0 to {MAX_ITEMS}")
    return FieldRule(
        name=name,
        type=kind,
        is_date=kind == "string" and spec.get("format") == "date",
        max_length=max_length,
        choices=tuple(choices) if choices is not None else None,
        item=item,
        max_items=max_items,
    )


def _text(max_length: int) -> dict[str, Any]:
    return {"type": "string", "maxLength": max_length}


WEDDING_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "partner_one": _text(80),
        "partner_two": _text(80),
        "headline": _text(160),
        "date": {"type": "string", "format": "date"},
        "venue": _text(160),
        "dress_code": _text(120),
        "gift_registry": _text(500),
        "bank_account": _text(200),
        "message": _text(2000),
        "hashtag": _text(60),
        "music_url": _text(500),
        "colours": {"type": "array", "items": _text(20), "maxItems": 6},
        "parents_one": _text(200),
        "parents_two": _text(200),
        "godparents": _text(500),
        "children_welcome": {"type": "boolean"},
        "rsvp_deadline": {"type": "string", "format": "date"},
        "language": {"type": "string", "enum": ["es", "en"]},
    },
    "required": ["partner_one", "partner_two", "date"],
}
"""The fields of a template that states none: a wedding's."""
