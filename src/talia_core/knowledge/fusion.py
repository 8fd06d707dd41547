"""Reciprocal rank fusion: one ranking out of several, by rank alone.

Lexical and vector scores are on scales that do not compare; ranks do. A passage scores
``1 / (k + rank)`` in every ranking that holds it (rank from 1), summed; ``k`` = 60 damps
the weight of the very first ranks (Cormack, Clarke and Büttcher, SIGIR 2009).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import attrs

from talia_core.knowledge.model import Passage

RRF_K = 60


def fuse(rankings: Sequence[Sequence[Passage]], limit: int, k: int = RRF_K) -> list[Passage]:
    """The best ``limit`` passages, scored by their fused score. Ties go to the passage the
    first ranking puts higher (a lexical ranking first: its matches are the query's own
    words), then the next ranking, then by chunk id, so the order is stable."""
    scores: dict[str, float] = {}
    ranks: dict[str, list[float]] = {}
    found: dict[str, Passage] = {}
    for which, ranking in enumerate(rankings):
        for rank, passage in enumerate(ranking, start=1):
            key = passage.chunk.id
            scores[key] = scores.get(key, 0.0) + 1.0 / (k + rank)
            ranks.setdefault(key, [math.inf] * len(rankings))[which] = rank
            found.setdefault(key, passage)
    order = sorted(scores, key=lambda key: (-scores[key], ranks[key], key))
    return [attrs.evolve(found[key], score=scores[key]) for key in order[:limit]]
