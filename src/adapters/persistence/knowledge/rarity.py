"""Which words of a question find the candidates of a full-text search, when its words
together are in more chunks than a search should score.

Scoring every chunk that holds any word of a question costs in proportion to those chunks;
a question of common words ("precio", "invitación") can match half of a large base. Past a
budget, the rarer words find the candidates (the rarest first, as many as the budget holds,
always the rarest one) and every word ranks them: a chunk holding only common words would
rank low anyway. SQLite (``fts5``) and PostgreSQL (``lexical``) count each word's chunks,
stopping past the budget, and ask this.
"""

from __future__ import annotations

from collections.abc import Sequence


def rarer(words: Sequence[str], counts: Sequence[int], budget: int) -> list[str]:
    """The words that find the candidates: all of them when their counts add up to no more
    than ``budget``. Counts stop past the budget, so among words past it the longest is
    taken for the rarest."""
    if sum(counts) <= budget:
        return list(words)
    chosen: list[str] = []
    total = 0
    by_rarity = sorted(zip(counts, words, strict=True), key=lambda pair: (pair[0], -len(pair[1])))
    for count, word in by_rarity:
        if not chosen or total + count <= budget:
            chosen.append(word)
            total += count
    return chosen
