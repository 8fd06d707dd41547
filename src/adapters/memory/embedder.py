"""A deterministic embedder for tests and offline runs, no model needed:

    embedder = HashingEmbedder()      # model "hashing-64"
    embedder.fail_next(2)             # the next two calls: ExternalServiceUnavailable
    ...
    embedder.batches                  # the texts of every call answered, in order

Each text is its lower-cased, accent-folded words hashed into ``dimensions`` counts and
scaled to unit length: texts sharing words are near, texts sharing none are orthogonal
(collisions aside). It knows no synonyms; it stands in for a real model's plumbing, not
its quality.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence

from adapters.memory.knowledge import words
from talia_core.knowledge.model import TextRole
from talia_core.shared.errors import ExternalServiceUnavailable


class HashingEmbedder:
    def __init__(self, dimensions: int = 64) -> None:
        self.dimensions = dimensions
        self.batches: list[list[str]] = []
        self._failures = 0

    @property
    def model(self) -> str:
        return f"hashing-{self.dimensions}"

    def fail_next(self, times: int = 1) -> None:
        """The next ``times`` calls find the embedder down."""
        self._failures += times

    async def embed(
        self, texts: Sequence[str], role: TextRole = TextRole.PASSAGE
    ) -> list[list[float]]:
        if self._failures > 0:
            self._failures -= 1
            raise ExternalServiceUnavailable(self.model, "the hashing embedder is switched off")
        self.batches.append(list(texts))
        return [self._vector(text) for text in texts]

    def _vector(self, text: str) -> list[float]:
        counts = [0.0] * self.dimensions
        for word in words(text):
            digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
            counts[int.from_bytes(digest, "big") % self.dimensions] += 1.0
        norm = math.sqrt(sum(c * c for c in counts))
        return [c / norm for c in counts] if norm else counts
