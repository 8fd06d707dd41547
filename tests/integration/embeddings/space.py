"""The vectors the embedding providers' local servers answer: the ones a test chose for a
text (``means``), else one of the text's own, the same every time and unrelated to any
other text's (a pseudo-random direction seeded by the text)."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence


class VectorSpace:
    def __init__(self, dimensions: int) -> None:
        self.dimensions = dimensions
        self._chosen: dict[str, list[float]] = {}

    def means(self, text: str, leading: Sequence[float]) -> None:
        """``text`` is answered ``leading`` and zeros up to the space's dimension."""
        self._chosen[text] = [*leading, *[0.0] * (self.dimensions - len(leading))]

    def vector(self, text: str) -> list[float]:
        if text in self._chosen:
            return self._chosen[text]
        rng = random.Random(text)
        values = [rng.gauss(0.0, 1.0) for _ in range(self.dimensions)]
        norm = math.hypot(*values)
        return [value / norm for value in values]
