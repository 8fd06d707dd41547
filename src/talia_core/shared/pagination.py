"""Offset pagination shared by every listing."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Generic, TypeVar

import attrs

from talia_core.shared.errors import RuleViolated

T = TypeVar("T")

MAX_LIMIT = 200


@attrs.frozen
class PageRequest:
    limit: int = 50
    offset: int = 0

    def __attrs_post_init__(self) -> None:
        if not 1 <= self.limit <= MAX_LIMIT:
            raise RuleViolated(
                f"limit must be between 1 and {MAX_LIMIT}", {"limit": "out of range"}
            )
        if self.offset < 0:
            raise RuleViolated("offset must not be negative", {"offset": "out of range"})


@attrs.frozen
class Page(Generic[T]):
    items: Sequence[T]
    total: int
    limit: int
    offset: int
