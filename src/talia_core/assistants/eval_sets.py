"""An assistant's eval set, and the report each of its versions got on it.

The eval set is the assistant's own regression check: cases held as data, each in the shape
of a line of a JSON Lines file of cases (``eval_parser``). Its ``digest`` names the cases
exactly: a version's report counts only against the set it was made on.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

MAX_EVAL_CASES = 200
"""The most cases an eval set holds: each one is played through the model, twice per
revision at most."""


@attrs.frozen
class EvalSet:
    """``cases`` as checked data (``eval_parser.cases_from_data``), in order."""

    assistant_id: str
    cases: tuple[Mapping[str, Any], ...]
    updated_by: str
    updated_at: datetime

    @property
    def digest(self) -> str:
        """The same for the same cases in the same order, whoever wrote them when."""
        text = json.dumps(list(self.cases), ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()


@attrs.frozen
class VersionReport:
    """A version's last evaluation: how many cases of the eval set ``eval_set`` (its
    digest) passed at ``at``, and the names of those that failed."""

    passed: int
    failed: int
    at: datetime
    eval_set: str
    failing: tuple[str, ...] = ()

    @property
    def pass_rate(self) -> float:
        total = self.passed + self.failed
        return self.passed / total if total else 0.0

    def not_below(self, other: VersionReport) -> bool:
        """Whether this pass rate is at least ``other``'s (compared exactly, no rounding)."""
        return self.passed * (other.passed + other.failed) >= other.passed * (
            self.passed + self.failed
        )
