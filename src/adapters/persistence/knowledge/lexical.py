"""Full-text search of chunks in each database's own engine, best first.

The user's words never reach an engine as its query syntax: a query is cut into words
(letters and digits), lowercased, and the Spanish words too common to tell passages apart
are left out (``adapters.spanish``); each engine is then handed its own safe form of "any
of these words":

- SQLite: FTS5 ``MATCH`` of the words' stems, each a quoted string, over the chunks'
  ``terms`` (the stems of their words, folded), ranked by ``bm25``, with the collections
  matched in the index itself (``fts5``: how its cost stays bounded). "envio" finds
  "envíos", "devoluciones" finds "devolución".
- PostgreSQL: ``plainto_tsquery('spanish', word)`` of each word and of the word without
  accents, joined by ``||`` (or), ranked by ``ts_rank`` over the log of the length (on
  labelled questions it ranks better than ``ts_rank_cd``, whose covers favour passages
  that repeat one common word). The indexed ``tsvector`` holds the Spanish stems of the
  text as written and of the text with accents folded, so a query written with or without
  accents finds both ("devolucion" stems apart from "devolución"). When the words are in
  more than ``CANDIDATE_BUDGET`` chunks of the collections together, only the rarer ones
  find the candidates (``rarity``), so a question of common words never has every chunk
  of a large base ranked.
- MySQL and MariaDB: ``MATCH … AGAINST`` of the words' stems over the chunks' ``terms``,
  in natural language mode (any of them), ranked by its relevance. InnoDB leaves out
  terms shorter than ``innodb_ft_min_token_size`` (3) and its own (English) stopwords. A
  chunk written in a transaction is searchable once it commits.

The collections filter the query itself, so a flood of better matches elsewhere never
crowds the allowed ones out of the top ``limit``.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from adapters.persistence.connection import Transaction
from adapters.persistence.knowledge.rarity import rarer
from adapters.persistence.knowledge.tables import knowledge_chunks, knowledge_documents
from adapters.spanish import fold

# A chunk's terms are for the engines to match, not part of the passage read back.
PASSAGE_COLUMNS = (
    *(column for column in knowledge_chunks.c if column is not knowledge_chunks.c.terms),
    knowledge_documents.c.title,
)
_SPANISH: sa.ColumnElement[Any] = sa.literal_column("'spanish'::regconfig")
_SEARCH: sa.ColumnElement[Any] = sa.literal_column(f"{knowledge_chunks.name}.search")
_BY_LOG_LENGTH = 1
"""``ts_rank``'s normalisation: divided by 1 + the logarithm of the passage's length."""
CANDIDATE_BUDGET = 1000
"""The most chunks a PostgreSQL search ranks when its words match more: ``ts_rank`` reads
each one's ``tsvector``, some 30 µs a chunk."""


def mysql_statement(terms: Sequence[str], collections: Sequence[str], limit: int) -> sa.Select[Any]:
    """Passages with a ``score`` (higher is better) for the stems ``terms`` in
    ``collections`` on MySQL or MariaDB."""
    relevance = mysql.match(knowledge_chunks.c.terms, against=" ".join(terms))
    relevance = relevance.in_natural_language_mode()
    return _passages(knowledge_chunks, relevance, relevance, collections, limit)


async def postgresql_statement(
    tx: Transaction, words: Sequence[str], collections: Sequence[str], limit: int
) -> sa.Select[Any]:
    """Passages with a ``score`` (higher is better) for ``words`` in ``collections`` on
    PostgreSQL: the rarer words find them past ``CANDIDATE_BUDGET`` (``rarity``), every
    word ranks them."""
    rare = list(words)
    if len(words) > 1:
        counts = sa.select(*(_count(_tsquery([word]), collections) for word in words))
        rare = rarer(words, tuple((await tx.execute(counts)).one()), CANDIDATE_BUDGET)
    return _passages(
        knowledge_chunks,
        _SEARCH.op("@@", is_comparison=True)(_tsquery(rare)),
        sa.func.ts_rank(_SEARCH, _tsquery(words), _BY_LOG_LENGTH),
        collections,
        limit,
    )


def _tsquery(words: Sequence[str]) -> sa.ColumnElement[Any]:
    """Any of ``words``, each as written and without its accents."""
    variants = dict.fromkeys(form for word in words for form in (word, fold(word)))
    queries: list[sa.ColumnElement[Any]] = [
        sa.func.plainto_tsquery(_SPANISH, variant) for variant in variants
    ]
    return functools.reduce(lambda either, other: either.op("||")(other), queries)


def _count(query: sa.ColumnElement[Any], collections: Sequence[str]) -> sa.ScalarSelect[Any]:
    """How many chunks of ``collections`` match, counting no further than past the budget."""
    matches = (
        sa.select(sa.literal(1))
        .select_from(knowledge_chunks)
        .where(
            _SEARCH.op("@@", is_comparison=True)(query),
            knowledge_chunks.c.collection.in_(collections),
        )
        .limit(CANDIDATE_BUDGET + 1)
        .subquery()
    )
    return sa.select(sa.func.count()).select_from(matches).scalar_subquery()


def _passages(
    source: sa.FromClause,
    matches: sa.ColumnElement[bool],
    score: sa.ColumnElement[Any],
    collections: Sequence[str],
    limit: int,
) -> sa.Select[Any]:
    score = score.label("score")
    return (
        sa.select(*PASSAGE_COLUMNS, score)
        .select_from(
            source.join(
                knowledge_documents, knowledge_documents.c.id == knowledge_chunks.c.document_id
            )
        )
        .where(matches, knowledge_chunks.c.collection.in_(collections))
        .order_by(score.desc(), knowledge_chunks.c.id)
        .limit(limit)
    )
