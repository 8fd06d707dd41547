"""Hybrid search: the passages of some collections that answer a question best.

The database's full-text engine ranks chunks by their words; with an embedder, the vector
index ranks them by meaning; reciprocal rank fusion makes one ranking of the two. Both ask
for the named collections inside their query, never filtering a global top-k afterwards:
an assistant sees only its collections' passages, however well others would score. When
the embedder does not answer, or refuses the query (a model its provider does not serve,
say), the search answers lexically.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from talia_core.knowledge.fusion import fuse
from talia_core.knowledge.model import (
    MAX_QUERY_LENGTH,
    MAX_SEARCH_COLLECTIONS,
    MAX_SEARCH_LIMIT,
    Passage,
    TextRole,
    collection_name,
)
from talia_core.knowledge.ports import Embedder, KnowledgeUnitOfWork
from talia_core.shared.errors import ExternalServiceUnavailable, RuleViolated, TaliaError
from talia_core.shared.ports import UnitOfWorkFactory
from talia_core.shared.text import required_text

logger = logging.getLogger("talia.knowledge")

DEFAULT_CANDIDATES = 20
"""How many passages each ranking brings to the fusion (at least the limit asked)."""


class KnowledgeSearch:
    def __init__(
        self,
        uow: UnitOfWorkFactory[KnowledgeUnitOfWork],
        embedder: Embedder | None,
        *,
        candidates: int = DEFAULT_CANDIDATES,
        min_similarity: float = 0.0,
    ) -> None:
        """Vector neighbours of a query are passages only when their cosine similarity is
        over ``min_similarity``: the nearest chunks of a question the documents do not
        answer are not answers."""
        self._uow = uow
        self._embedder = embedder
        self._candidates = candidates
        self._min_similarity = min_similarity

    async def search(self, query: str, collections: Sequence[str], limit: int = 5) -> list[Passage]:
        """Best first, at most ``limit``; no collections, no passages."""
        query = required_text("query", query, MAX_QUERY_LENGTH)
        if not 1 <= limit <= MAX_SEARCH_LIMIT:
            raise RuleViolated(
                f"limit must be between 1 and {MAX_SEARCH_LIMIT}", {"limit": "out of range"}
            )
        names = _collections(collections)
        if not names:
            return []
        wanted = max(self._candidates, limit)
        # The query is embedded while the database ranks its words: a search takes the
        # longer of the two, not their sum.
        embedding = asyncio.ensure_future(self._vector(query))
        try:
            async with self._uow(read_only=True) as uow:
                rankings = [await uow.chunks.lexical(query, names, wanted)]
                vector = await embedding
                if self._embedder is not None and vector is not None:
                    model = self._embedder.model
                    nearest = await uow.vectors.nearest(model, vector, names, wanted)
                    rankings.append([p for p in nearest if p.score > self._min_similarity])
        finally:
            embedding.cancel()  # when the words' ranking failed: nobody waits for it
        return fuse(rankings, limit)

    async def _vector(self, query: str) -> list[float] | None:
        if self._embedder is None:
            return None
        try:
            [vector] = await self._embedder.embed([query], TextRole.QUERY)
        except ExternalServiceUnavailable as error:
            logger.info("searching by words only, the embedder did not answer: %s", error)
            return None
        except TaliaError as error:  # refused as it was: its settings need an operator
            logger.warning("searching by words only, the embedder refused: %s", error)
            return None
        return vector


def _collections(values: Sequence[str]) -> list[str]:
    """The collections named, checked, each once."""
    distinct = list(dict.fromkeys(values))
    if len(distinct) > MAX_SEARCH_COLLECTIONS:
        raise RuleViolated(
            f"a search names at most {MAX_SEARCH_COLLECTIONS} collections",
            {"collections": "too many"},
        )
    return list(dict.fromkeys(collection_name(value, "collections") for value in distinct))
