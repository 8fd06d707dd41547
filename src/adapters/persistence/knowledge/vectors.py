"""Vectors: one per chunk and embedding model, searched exactly in this process.

A vector is stored at unit length as float32 little-endian bytes, the same on every
database, so cosine similarity is a dot product. ``nearest`` ranks every vector of the
model (of the query's size) in the collections asked for, by one matrix product over each
collection's slab (``matrix``), read from the database only when the collection changed
since this process last read it (``generations``); then it reads the passages of the best
``limit`` chunks, so a chunk deleted meanwhile is never returned. Exact, and linear in the
vectors of those collections.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import sqlalchemy as sa

from adapters.persistence.connection import Transaction
from adapters.persistence.knowledge import generations
from adapters.persistence.knowledge.lexical import PASSAGE_COLUMNS
from adapters.persistence.knowledge.matrix import Slab, cache_of
from adapters.persistence.knowledge.tables import (
    knowledge_chunks,
    knowledge_documents,
    knowledge_vectors,
)
from adapters.persistence.mapping import from_row
from talia_core.knowledge.model import Chunk, Passage

if TYPE_CHECKING:
    from adapters.persistence.knowledge.matrix import Matrix

_STORED = "<f4"
"""Float32, little-endian: numpy's name for it (numpy is imported by the first vector)."""


def _unit(vector: Sequence[float]) -> Matrix:
    import numpy as np

    values = np.asarray(vector, dtype=np.float64)
    norm = np.linalg.norm(values)
    return (values / norm if norm else values).astype(np.float32)


def _has_vector(model: str) -> sa.Exists:
    return sa.exists().where(
        knowledge_vectors.c.chunk_id == knowledge_chunks.c.id, knowledge_vectors.c.model == model
    )


class SqlAlchemyVectorRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def put(self, model: str, vectors: Mapping[str, Sequence[float]]) -> None:
        if not vectors:
            return
        chunk_ids = list(vectors)
        await generations.advance(self._tx, await generations.of_chunks(self._tx, chunk_ids))
        await self._tx.execute(
            knowledge_vectors.delete().where(
                knowledge_vectors.c.model == model, knowledge_vectors.c.chunk_id.in_(chunk_ids)
            )
        )
        rows = [
            {
                "chunk_id": chunk_id,
                "model": model,
                "dims": len(vector),
                "vector": _unit(vector).astype(_STORED).tobytes(),
            }
            for chunk_id, vector in vectors.items()
        ]
        await self._tx.execute(knowledge_vectors.insert(), rows)

    async def nearest(
        self, model: str, vector: Sequence[float], collections: Sequence[str], limit: int
    ) -> list[Passage]:
        names = sorted(set(collections))
        if not names:
            return []
        target = _unit(vector)
        slabs = await self._slabs(model, len(vector), names)
        candidates = [found for slab in slabs for found in slab.best(target, limit)]
        best = sorted(candidates, key=lambda found: (-found[0], found[1]))[:limit]
        if not best:
            return []
        query = (
            sa.select(*PASSAGE_COLUMNS)
            .select_from(
                knowledge_chunks.join(
                    knowledge_documents, knowledge_documents.c.id == knowledge_chunks.c.document_id
                )
            )
            .where(knowledge_chunks.c.id.in_([chunk_id for _, chunk_id in best]))
        )
        rows = {row.id: row for row in await self._tx.execute(query)}
        return [
            Passage(
                chunk=from_row(Chunk, rows[chunk_id]._mapping),
                title=rows[chunk_id].title,
                score=score,
            )
            for score, chunk_id in best
            if chunk_id in rows
        ]

    async def _slabs(self, model: str, dims: int, names: list[str]) -> list[Slab]:
        """Each collection's slab: this process's copy while current, else read again. The
        tokens are read first: a write committed after them makes the copy look stale,
        never current."""
        cache = cache_of(self._tx.connection.sync_engine)
        tokens = await generations.current(self._tx, names)
        slabs = {name: cache.get((model, dims, name), tokens.get(name)) for name in names}
        stale = [name for name, slab in slabs.items() if slab is None]
        if stale:
            import numpy as np

            read = await self._read(model, dims, stale)
            for name in stale:
                ids, blobs = read.get(name, ([], []))
                matrix = np.frombuffer(b"".join(blobs), dtype=_STORED).reshape(len(ids), dims)
                # A copy of its own, aligned: products over unaligned memory take 4 times longer.
                slab = Slab(tokens.get(name), ids, matrix.astype(np.float32))
                cache.keep((model, dims, name), slab)
                slabs[name] = slab
        return [slab for slab in slabs.values() if slab is not None]

    async def _read(
        self, model: str, dims: int, collections: list[str]
    ) -> dict[str, tuple[list[str], list[bytes]]]:
        query = (
            sa.select(
                knowledge_chunks.c.collection,
                knowledge_vectors.c.chunk_id,
                knowledge_vectors.c.vector,
            )
            .select_from(
                knowledge_vectors.join(
                    knowledge_chunks, knowledge_chunks.c.id == knowledge_vectors.c.chunk_id
                )
            )
            .where(
                knowledge_vectors.c.model == model,
                knowledge_vectors.c.dims == dims,
                knowledge_chunks.c.collection.in_(collections),
            )
        )
        read: dict[str, tuple[list[str], list[bytes]]] = {}
        for row in await self._tx.execute(query):
            ids, blobs = read.setdefault(row.collection, ([], []))
            ids.append(row.chunk_id)
            blobs.append(row.vector)
        return read

    async def missing(self, model: str, limit: int) -> list[Chunk]:
        query = (
            knowledge_chunks.select()
            .where(~_has_vector(model))
            .order_by(knowledge_chunks.c.document_id, knowledge_chunks.c.position)
            .limit(limit)
        )
        return [from_row(Chunk, row._mapping) for row in await self._tx.execute(query)]

    async def forget_other_models(self, model: str) -> int:
        await generations.advance_every(self._tx)
        result = await self._tx.execute(
            knowledge_vectors.delete().where(knowledge_vectors.c.model != model)
        )
        return int(result.rowcount)
