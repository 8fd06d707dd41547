"""Row mapping shared by the repositories."""

from __future__ import annotations

import enum
from typing import Any

import attrs


def as_row(entity: Any) -> dict[str, Any]:
    """An attrs entity whose fields map one to one onto columns; enums stored by value."""
    return {
        key: value.value if isinstance(value, enum.Enum) else value
        for key, value in attrs.asdict(entity, recurse=False).items()
    }
