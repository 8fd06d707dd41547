"""Vectors on PostgreSQL with pgvector: ranked exactly inside the database.

Where the server has the ``vector`` extension, migration 0009 adds ``knowledge_pgvector``:
each vector of ``knowledge_vectors`` again, at unit length, as a pgvector ``vector`` beside
its chunk's collection, gone with it (a foreign key, so replacing or deleting chunks and
forgetting a model need nothing here). Its size is left open, since each embedding model
has its own, so no approximate index can serve it: ``nearest`` reads that one narrow table,
ranks every vector of the model in the collections asked for by inner product (the cosine,
at unit length), exact, and joins the passages of the best ``limit`` only. The float32
bytes stay the portable copy (``missing``, ``forget_other_models``, another database).

Whether the table exists is asked once per engine; a PostgreSQL without it is searched as
every other database is.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Engine

from adapters.persistence.knowledge.lexical import PASSAGE_COLUMNS
from adapters.persistence.knowledge.tables import (
    PGVECTOR_TABLE,
    knowledge_chunks,
    knowledge_documents,
)
from adapters.persistence.knowledge.vectors import SqlAlchemyVectorRepository
from adapters.persistence.mapping import from_row
from talia_core.knowledge.model import Chunk, Passage


class _Vector(sa.types.UserDefinedType[Any]):
    """pgvector's ``vector`` of any size, only ever cast to from ``real[]``."""

    cache_ok = True

    def get_col_spec(self, **_: Any) -> str:
        return "vector"


def _unit_vector(name: str) -> sa.ColumnElement[Any]:
    real = sa.bindparam(name, type_=postgresql.ARRAY(postgresql.REAL))
    return sa.func.l2_normalize(sa.cast(real, _Vector()), type_=_Vector())


_embeddings = sa.table(
    PGVECTOR_TABLE,
    sa.column("chunk_id"),
    sa.column("model"),
    sa.column("collection"),
    sa.column("embedding"),
)
_INSERT = _embeddings.insert().from_select(
    ["chunk_id", "model", "collection", "embedding"],
    sa.select(
        knowledge_chunks.c.id,
        sa.bindparam("model", type_=sa.String),
        knowledge_chunks.c.collection,
        _unit_vector("embedding"),
    ).where(knowledge_chunks.c.id == sa.bindparam("chunk_id")),
)
_present: weakref.WeakKeyDictionary[Engine, bool] = weakref.WeakKeyDictionary()


class PgvectorVectorRepository(SqlAlchemyVectorRepository):
    """The vector repository on PostgreSQL: with pgvector where the migration added it."""

    async def put(self, model: str, vectors: Mapping[str, Sequence[float]]) -> None:
        await super().put(model, vectors)
        if vectors and await self._has_pgvector():
            rows = [
                {"chunk_id": chunk_id, "model": model, "embedding": list(vector)}
                for chunk_id, vector in vectors.items()
            ]
            await self._tx.execute(_INSERT, rows)

    async def nearest(
        self, model: str, vector: Sequence[float], collections: Sequence[str], limit: int
    ) -> list[Passage]:
        if not collections or not await self._has_pgvector():
            return await super().nearest(model, vector, collections, limit)
        # pgvector's <#> is the negative inner product. The target is a subquery so that it is
        # worked out once, also in the generic plan a prepared statement comes to use.
        target = sa.select(_unit_vector("target")).scalar_subquery()
        distance = _embeddings.c.embedding.op("<#>", return_type=sa.Float)(target)
        best = (
            sa.select(_embeddings.c.chunk_id, distance.label("distance"))
            .where(
                _embeddings.c.model == model,
                _embeddings.c.collection.in_(collections),
                # Vectors of another size cannot be compared: filtered before the distance.
                sa.func.vector_dims(_embeddings.c.embedding) == len(vector),
            )
            .order_by(sa.literal_column("distance"))
            .limit(limit)
            .subquery()
        )
        query = (
            sa.select(*PASSAGE_COLUMNS, best.c.distance)
            .select_from(
                best.join(knowledge_chunks, knowledge_chunks.c.id == best.c.chunk_id).join(
                    knowledge_documents, knowledge_documents.c.id == knowledge_chunks.c.document_id
                )
            )
            .order_by(best.c.distance, knowledge_chunks.c.id)
        )
        rows = await self._tx.execute(query, {"target": list(vector)})
        return [
            Passage(chunk=from_row(Chunk, row._mapping), title=row.title, score=-row.distance)
            for row in rows
        ]

    async def _has_pgvector(self) -> bool:
        engine = self._tx.connection.sync_engine
        if engine not in _present:
            found = await self._tx.execute(sa.select(sa.func.to_regclass(PGVECTOR_TABLE)))
            _present[engine] = found.scalar() is not None
        return _present[engine]
