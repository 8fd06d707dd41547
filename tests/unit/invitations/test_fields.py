"""A template's field schema: read from data, and held to by an invitation's data."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from talia_core.invitations.fields import WEDDING_SCHEMA, FieldSchema
from talia_core.shared.errors import RuleViolated

SCHEMA = FieldSchema.parse(
    {
        "type": "object",
        "properties": {
            "name": {"type": "string", "maxLength": 10},
            "date": {"type": "string", "format": "date"},
            "guests": {"type": "integer"},
            "budget": {"type": "number"},
            "kids": {"type": "boolean"},
            "tone": {"type": "string", "enum": ["formal", "casual"]},
            "colours": {
                "type": "array",
                "items": {"type": "string", "maxLength": 7},
                "maxItems": 2,
            },
        },
        "required": ["name", "date"],
    }
)


PRINTABLE = st.characters(exclude_categories=("Cc", "Cs"))


def problems(data: dict[str, Any], *, complete: bool = False) -> dict[str, str]:
    with pytest.raises(RuleViolated) as refused:
        SCHEMA.check(data, complete=complete)
    return refused.value.fields


def test_a_draft_may_lack_required_fields() -> None:
    SCHEMA.check({"guests": 80, "budget": 1.5, "kids": False, "tone": "formal"}, complete=False)


def test_each_bad_field_is_named() -> None:
    found = problems(
        {
            "name": "a name far too long",
            "date": "14/02/2027",
            "guests": "80",
            "budget": True,
            "kids": "yes",
            "tone": "loud",
            "colours": ["#fff", "#000", "#abc"],
            "shoe_size": 42,
        }
    )
    assert found == {
        "data.name": "at most 10 characters",
        "data.date": "must be a date (YYYY-MM-DD)",
        "data.guests": "must be a integer",
        "data.budget": "must be a number",
        "data.kids": "must be a boolean",
        "data.tone": "must be one of formal, casual",
        "data.colours": "at most 2 items",
        "data.shoe_size": "unknown field",
    }


def test_publishing_asks_for_every_required_field() -> None:
    assert problems({"name": "Ana", "date": ""}, complete=True) == {"data.date": "required"}
    SCHEMA.check({"name": "Ana", "date": "2027-02-14"}, complete=True)


def test_control_characters_and_non_finite_numbers_are_refused() -> None:
    assert problems({"name": "a\x00b", "budget": float("inf")}) == {
        "data.name": "must not contain control characters",
        "data.budget": "must be a finite number",
    }
    SCHEMA.check({"name": "a\tb\nc"}, complete=False)


def test_array_items_are_checked_one_by_one() -> None:
    assert problems({"colours": ["#ffffff00"]}) == {"data.colours": "item: at most 7 characters"}


@given(st.text(PRINTABLE, max_size=10))
def test_any_text_within_its_length_is_a_valid_name(text: str) -> None:
    SCHEMA.check({"name": text}, complete=False)


@given(st.text(PRINTABLE, min_size=11, max_size=40))
def test_no_text_past_its_length_is_a_valid_name(text: str) -> None:
    assert problems({"name": text}) == {"data.name": "at most 10 characters"}


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "array", "properties": {"a": {"type": "string"}}},
        {"properties": {}},
        {"properties": {"Bad Name": {"type": "string"}}},
        {"properties": {"a": {"type": "object"}}},
        {"properties": {"a": {"type": "string", "maxLength": 0}}},
        {"properties": {"a": {"type": "string", "enum": []}}},
        {"properties": {"a": {"type": "array", "items": {"type": "array"}}}},
        {"properties": {"a": {"type": "string"}}, "required": ["b"]},
    ],
)
def test_a_schema_outside_the_subset_is_refused_on_fields(schema: dict[str, Any]) -> None:
    with pytest.raises(RuleViolated) as refused:
        FieldSchema.parse(schema)
    assert "fields" in refused.value.fields


def test_the_default_schema_holds_a_weddings_fields() -> None:
    schema = FieldSchema.parse(WEDDING_SCHEMA)
    assert schema.required == {"partner_one", "partner_two", "date"}
    assert {"dress_code", "gift_registry", "music_url", "colours", "message"} <= set(schema.fields)
