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
  accents finds both ("devolucion" stems apart from "devolución").
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


def statement(
    dialect: str, terms: Sequence[str], collections: Sequence[str], limit: int
) -> sa.Select[Any]:
    """Passages with a ``score`` (higher is better) for ``terms`` in ``collections`` on
    PostgreSQL (``terms``: the query's words) and MySQL or MariaDB (their stems); SQLite's
    search is ``fts5``."""
    if dialect == "postgresql":
        return _postgresql(terms, collections, limit)
    return _mysql(terms, collections, limit)


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


def _postgresql(terms: Sequence[str], collections: Sequence[str], limit: int) -> sa.Select[Any]:
    variants = dict.fromkeys(form for term in terms for form in (term, fold(term)))
    queries: list[sa.ColumnElement[Any]] = [
        sa.func.plainto_tsquery(_SPANISH, variant) for variant in variants
    ]
    query = functools.reduce(lambda either, other: either.op("||")(other), queries)
    return _passages(
        knowledge_chunks,
        _SEARCH.op("@@", is_comparison=True)(query),
        sa.func.ts_rank(_SEARCH, query, _BY_LOG_LENGTH),
        collections,
        limit,
    )


def _mysql(terms: Sequence[str], collections: Sequence[str], limit: int) -> sa.Select[Any]:
    relevance = mysql.match(
        knowledge_chunks.c.terms, against=" ".join(terms)
    ).in_natural_language_mode()
    return _passages(knowledge_chunks, relevance, relevance, collections, limit)
