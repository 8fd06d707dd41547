"""Checks a tool call's arguments against the tool's JSON schema, before the tool runs.

Models write arguments as JSON text and get them wrong now and then; what is wrong goes
back to the model as the tool's answer, so it can try again. The checker covers the part
of JSON Schema tool parameters use: ``type`` (object, string, integer, number, boolean,
array), ``properties``, ``required``, ``additionalProperties: false``, ``enum``,
``minimum``/``maximum``, ``minLength``/``maxLength`` and ``items``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
}


class BadArguments(Exception):
    """The arguments cannot be used: ``problems`` says why, one line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def parsed_arguments(text: str, schema: Mapping[str, Any]) -> dict[str, Any]:
    """The arguments ``text`` holds, when they are a JSON object that fits ``schema``."""
    try:
        value = json.loads(text or "{}")
    except ValueError as error:
        raise BadArguments([f"the arguments are not JSON: {error}"]) from None
    if not isinstance(value, dict):
        raise BadArguments(["the arguments must be a JSON object"])
    problems: list[str] = []
    _check(value, schema, "arguments", problems)
    if problems:
        raise BadArguments(problems)
    return value


def _check(value: Any, schema: Mapping[str, Any], at: str, problems: list[str]) -> None:
    expected = schema.get("type")
    if isinstance(expected, str) and not _is(value, expected):
        problems.append(f"{at} must be of type {expected}")
        return
    if "enum" in schema and value not in schema["enum"]:
        allowed = ", ".join(json.dumps(option) for option in schema["enum"])
        problems.append(f"{at} must be one of {allowed}")
    if isinstance(value, dict):
        _check_object(value, schema, at, problems)
    elif isinstance(value, list) and isinstance(schema.get("items"), Mapping):
        for index, item in enumerate(value):
            _check(item, schema["items"], f"{at}[{index}]", problems)
    elif isinstance(value, str):
        _check_length(len(value), schema, at, problems)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            problems.append(f"{at} must be at least {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            problems.append(f"{at} must be at most {schema['maximum']}")


def _check_object(
    value: dict[str, Any], schema: Mapping[str, Any], at: str, problems: list[str]
) -> None:
    properties: Mapping[str, Any] = schema.get("properties", {})
    for name in schema.get("required", ()):
        if name not in value:
            problems.append(f"{at}.{name} is required")
    for name, item in value.items():
        if name in properties:
            _check(item, properties[name], f"{at}.{name}", problems)
        elif schema.get("additionalProperties") is False:
            problems.append(f"{at}.{name} is not a known argument")


def _check_length(length: int, schema: Mapping[str, Any], at: str, problems: list[str]) -> None:
    if "minLength" in schema and length < schema["minLength"]:
        problems.append(f"{at} must be at least {schema['minLength']} characters")
    if "maxLength" in schema and length > schema["maxLength"]:
        problems.append(f"{at} must be at most {schema['maxLength']} characters")


def _is(value: Any, expected: str) -> bool:
    kinds = _TYPES.get(expected)
    if kinds is None:
        return True
    if isinstance(value, bool) and expected != "boolean":
        return False
    return isinstance(value, kinds)
