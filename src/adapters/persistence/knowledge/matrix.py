"""The vectors of a collection kept in this process as one float32 matrix, while current.

Reading every vector of a collection from the database costs far more than ranking them,
so each process keeps, per database engine, a ``Slab`` for each (model, size, collection)
it searched: the chunks' ids and their unit vectors as the rows of a matrix, ranked by one
matrix product. A slab carries the collection's generation token read before its vectors
(``generations``) and is used only while the database still holds that token; any write to
the collection's chunks or vectors, from any process, replaces the token in its own
transaction, and the next search reads the collection again.

Slabs of one engine take at most ``MAX_BYTES`` (256 MiB: 160 000 vectors of 384 floats,
43 000 of 1 536), the least recently searched going first; a collection larger than that
alone is read for each search instead and kept by none. numpy is imported by the first
search, so a process without an embedder never holds it.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from typing import TYPE_CHECKING

import attrs
from sqlalchemy.engine import Engine

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

MAX_BYTES = 256 * 1024 * 1024
ID_BYTES = 100
"""What a chunk's id costs as a Python string, with its place in a list."""

Key = tuple[str, int, str]
"""An embedding model, its vectors' size, a collection."""
if TYPE_CHECKING:
    Matrix = npt.NDArray[np.float32]


@attrs.frozen
class Slab:
    """The vectors of one model and size in one collection, as of ``token``."""

    token: str | None
    ids: list[str]
    matrix: Matrix

    @property
    def nbytes(self) -> int:
        return self.matrix.nbytes + len(self.ids) * ID_BYTES

    def best(self, target: Matrix, limit: int) -> list[tuple[float, str]]:
        """(similarity, chunk id) of the ``limit`` nearest rows, and of any tied with the
        last of them: the caller breaks ties by id, the same in every process."""
        if not self.ids:
            return []
        import numpy as np

        # einsum's own loop, on this thread: a BLAS product hands rows to its threads, which
        # then wait on the database driver's thread and take ten times longer.
        scores = np.einsum("ij,j->i", self.matrix, target)
        rows = np.arange(len(scores))
        if limit < len(scores):
            threshold = np.partition(scores, len(scores) - limit)[len(scores) - limit]
            rows = np.flatnonzero(scores >= threshold)
        return [(float(scores[row]), self.ids[row]) for row in rows]


class SlabCache:
    """Slabs by key, the least recently used dropped past ``max_bytes``."""

    def __init__(self, max_bytes: int = MAX_BYTES) -> None:
        self._max_bytes = max_bytes
        self._slabs: OrderedDict[Key, Slab] = OrderedDict()
        self._bytes = 0

    def get(self, key: Key, token: str | None) -> Slab | None:
        """The slab of ``key`` when it is as of ``token``."""
        slab = self._slabs.get(key)
        if slab is None or token is None or slab.token != token:
            return None
        self._slabs.move_to_end(key)
        return slab

    def keep(self, key: Key, slab: Slab) -> None:
        """``slab`` in place of what ``key`` held, unless it has no token or is too big."""
        replaced = self._slabs.pop(key, None)
        if replaced is not None:
            self._bytes -= replaced.nbytes
        if slab.token is None or slab.nbytes > self._max_bytes:
            return
        self._slabs[key] = slab
        self._bytes += slab.nbytes
        while self._bytes > self._max_bytes:
            _, dropped = self._slabs.popitem(last=False)
            self._bytes -= dropped.nbytes


_caches: weakref.WeakKeyDictionary[Engine, SlabCache] = weakref.WeakKeyDictionary()


def cache_of(engine: Engine) -> SlabCache:
    """The slabs this process keeps for ``engine``'s database."""
    return _caches.setdefault(engine, SlabCache())
