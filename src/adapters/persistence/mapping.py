"""Row mapping shared by the repositories: attrs fields map one to one onto columns."""

from __future__ import annotations

import enum
import functools
import types
from typing import Any, TypeVar, Union, get_args, get_origin

import attrs
import sqlalchemy as sa

from talia_core.shared.money import Money

E = TypeVar("E", bound=attrs.AttrsInstance)


def as_row(entity: Any) -> dict[str, Any]:
    """The column values of an entity; enums are stored by value."""
    return {
        key: value.value if isinstance(value, enum.Enum) else value
        for key, value in attrs.asdict(entity, recurse=False).items()
    }


def from_row(kind: type[E], values: sa.RowMapping, prefix: str = "") -> E:
    """The entity a row holds; ``prefix`` picks its columns out of a joined row."""
    arguments = {}
    for name, alias, enum_type in _fields(kind):
        value = values[prefix + name]
        if enum_type is not None and value is not None:
            value = enum_type(value)
        arguments[alias] = value
    return kind(**arguments)


@functools.cache
def _fields(kind: type[Any]) -> tuple[tuple[str, str, type[enum.Enum] | None], ...]:
    resolved = attrs.resolve_types(kind)
    return tuple(
        (field.name, field.alias or field.name, _enum_in(field.type))
        for field in attrs.fields(resolved)
        if field.init
    )


def _enum_in(annotation: Any) -> type[enum.Enum] | None:
    """The enum an annotation names, alone or as ``Enum | None``."""
    if get_origin(annotation) in (Union, types.UnionType):
        found = [_enum_in(arg) for arg in get_args(annotation)]
        return next((kind for kind in found if kind is not None), None)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return annotation
    return None


# Money is two columns, <name>_amount (minor units) and <name>_currency.


def money_columns(name: str, *, nullable: bool = False) -> tuple[sa.Column[Any], ...]:
    """``<name>_amount`` and ``<name>_currency``: both set, or (when nullable) both null."""
    return (
        sa.Column(f"{name}_amount", sa.BigInteger, nullable=nullable),
        sa.Column(f"{name}_currency", sa.String(3), nullable=nullable),
    )


def money_values(name: str, money: Money | None) -> dict[str, Any]:
    return {
        f"{name}_amount": None if money is None else money.amount,
        f"{name}_currency": None if money is None else money.currency,
    }


def optional_money(row: sa.RowMapping, name: str) -> Money | None:
    amount = row[f"{name}_amount"]
    return None if amount is None else Money(int(amount), row[f"{name}_currency"])


def money(row: sa.RowMapping, name: str) -> Money:
    found = optional_money(row, name)
    if found is None:
        raise ValueError(f"{name} is null in a column that holds required money")
    return found
