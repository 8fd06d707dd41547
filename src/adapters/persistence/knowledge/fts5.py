"""Full-text search of chunks on SQLite: an FTS5 ``MATCH``, ranked by ``bm25``, at a cost
that stays bounded as the knowledge base grows.

The stems of a question's words, each a quoted FTS5 string (never query syntax), are
matched in the chunks' terms (the stems of their section and text), any of them (``OR``).
FTS5 scores every chunk the expression matches, reading each one's length to do it, and
first counts, for every phrase of the expression, the chunks that hold it; so a question
of words that half of 50 000 chunks hold takes some 50 ms. Two measures bound that:

- **The rarer words find the chunks, every word ranks them.** A search whose collections
  hold more than ``CANDIDATE_BUDGET`` chunks first counts the chunks each word is in (each
  count stopping past the budget). When they add up to more than the budget, the
  candidates are the chunks holding one of the rarer words (the rarest first, as many as
  the budget holds, always the rarest one), and the other words only add to their scores:
  ``(rare) AND ((common) OR (rare))``. The rare words thus count twice in ``bm25`` (they
  are the ones that tell passages apart), the common ones once, and a chunk holding only
  common words, which would rank low, is not a candidate. With the budget cut to an
  eighth of the chunks, the retrieval benchmark's labelled questions found their passage
  among the first five 74% of the time instead of 77% (76% at a quarter); leaving the
  common words out altogether gave 66%.
- **A search names its collections in the same expression**, as tokens of the index (each
  collection's name in hex), so it reads the postings of those collections, not every
  match in the base. A search that names every collection there is leaves them out, since
  ``bm25`` would count each key's chunks, the whole base, for nothing. Either way only
  passages of the named collections are read back: a collection made between the check
  and the search may cost that search some passages, never show it another's.

The search then scores at most the budget's candidates, unless the question's rarest word
alone is in more chunks than that.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from adapters.persistence.connection import Transaction
from adapters.persistence.knowledge.lexical import PASSAGE_COLUMNS
from adapters.persistence.knowledge.rarity import rarer
from adapters.persistence.knowledge.tables import FTS_TABLE, knowledge_chunks, knowledge_documents

CANDIDATE_BUDGET = 3000
"""The most chunks a search scores when its words match more: some milliseconds' work."""

_FTS = sa.table(FTS_TABLE, sa.column("rowid"))
_MATCH = sa.literal_column(FTS_TABLE).op("MATCH", is_comparison=True)
# Only the terms score: the collection key weighs nothing.
_BM25 = sa.func.bm25(sa.literal_column(FTS_TABLE), 1.0, 0.0)
_CHUNK_ROWID: sa.ColumnElement[Any] = sa.literal_column(f"{knowledge_chunks.name}.rowid")


async def statement(
    tx: Transaction, terms: Sequence[str], collections: Sequence[str], limit: int
) -> sa.Select[Any]:
    """Passages with a ``score`` (higher is better) for the stems ``terms`` in
    ``collections``."""
    words = list(terms)
    named = knowledge_chunks.c.collection.in_(collections)
    in_named = sa.select(sa.literal(1)).select_from(knowledge_chunks).where(named)
    scope = sa.select(sa.func.count()).select_from(in_named.limit(CANDIDATE_BUDGET + 1).subquery())
    checks = sa.select(~sa.exists(_outside(collections)), scope.scalar_subquery())
    every, size = tuple((await tx.execute(checks)).one())
    rare, common = await _split(tx, words) if size > CANDIDATE_BUDGET else (words, [])
    expression = f"terms : {_any(rare)}"
    if common:
        expression = f"terms : ({_any(rare)} AND ({_any(common)} OR {_any(rare)}))"
    if not every:
        keys = _any([name.encode().hex() for name in collections])
        expression += f" AND collection_key : {keys}"
    score = _BM25.label("score")
    ranked = (
        sa.select(_FTS.c.rowid, score)
        .where(_MATCH(expression))
        .order_by(score, _FTS.c.rowid)
        .limit(limit)
        .subquery()
    )
    return (
        sa.select(*PASSAGE_COLUMNS, (-ranked.c.score).label("score"))
        .select_from(
            ranked.join(knowledge_chunks, ranked.c.rowid == _CHUNK_ROWID).join(
                knowledge_documents, knowledge_documents.c.id == knowledge_chunks.c.document_id
            )
        )
        .where(named)
        .order_by(ranked.c.score, knowledge_chunks.c.id)
    )


def _outside(collections: Sequence[str]) -> sa.Select[Any]:
    """Chunks of other collections than ``collections``: a probe of the index on the
    chunks' collection for each gap between the names, however many chunks there are."""
    names = sorted(set(collections))
    column = knowledge_chunks.c.collection
    gaps = [
        column < names[0],
        *(sa.and_(column > low, column < high) for low, high in itertools.pairwise(names)),
        column > names[-1],
    ]
    return sa.select(sa.literal(1)).select_from(knowledge_chunks).where(sa.or_(*gaps))


async def _split(tx: Transaction, words: list[str]) -> tuple[list[str], list[str]]:
    """The rarer words, which find the candidates, and the others, which only score them."""
    if len(words) == 1:
        return words, []
    counts = sa.select(*(_count(f"terms : {_quoted(word)}") for word in words))
    rare = rarer(words, tuple((await tx.execute(counts)).one()), CANDIDATE_BUDGET)
    return rare, [word for word in words if word not in rare]


def _count(expression: str) -> sa.ScalarSelect[Any]:
    """How many chunks ``expression`` matches, counting no further than past the budget."""
    matches = (
        sa.select(_FTS.c.rowid).where(_MATCH(expression)).limit(CANDIDATE_BUDGET + 1).subquery()
    )
    return sa.select(sa.func.count()).select_from(matches).scalar_subquery()


def _any(words: Sequence[str]) -> str:
    return "(" + " OR ".join(_quoted(word) for word in words) + ")"


def _quoted(token: str) -> str:
    """An FTS5 string: whatever it holds is a token to match, never query syntax."""
    return '"' + token.replace('"', '""') + '"'
