"""The vectors a process keeps: only as of a token, and never more than their byte budget."""

from __future__ import annotations

import numpy as np

from adapters.persistence.knowledge.matrix import ID_BYTES, Slab, SlabCache

ROW_BYTES = 4 * 4 + ID_BYTES


def _slab(token: str | None, rows: int = 1) -> Slab:
    return Slab(token, [f"chunk-{n}" for n in range(rows)], np.ones((rows, 4), np.float32))


def test_a_slab_is_given_back_only_for_the_token_it_was_read_at() -> None:
    cache = SlabCache()
    slab = _slab("t1")
    cache.keep(("model", 4, "faq"), slab)

    assert cache.get(("model", 4, "faq"), "t1") is slab
    assert cache.get(("model", 4, "faq"), "t2") is None
    assert cache.get(("model", 4, "faq"), None) is None
    assert cache.get(("model", 4, "ventas"), "t1") is None


def test_the_least_recently_searched_slabs_go_past_the_byte_budget() -> None:
    cache = SlabCache(max_bytes=3 * ROW_BYTES)
    for name in ("a", "b", "c"):
        cache.keep(("model", 4, name), _slab("t"))
    cache.get(("model", 4, "a"), "t")

    cache.keep(("model", 4, "d"), _slab("t"))

    kept = [name for name in "abcd" if cache.get(("model", 4, name), "t") is not None]
    assert kept == ["a", "c", "d"]


def test_slabs_without_a_token_or_over_the_budget_alone_are_not_kept() -> None:
    cache = SlabCache(max_bytes=2 * ROW_BYTES)
    cache.keep(("model", 4, "faq"), _slab("t"))

    cache.keep(("model", 4, "faq"), _slab(None))
    cache.keep(("model", 4, "ventas"), _slab("t", rows=3))

    assert cache.get(("model", 4, "faq"), "t") is None
    assert cache.get(("model", 4, "ventas"), "t") is None


def test_the_nearest_rows_come_with_every_row_tied_with_the_last() -> None:
    matrix = np.array([[1, 0], [0, 1], [0.6, 0.8], [0.6, 0.8]], np.float32)
    slab = Slab("t", ["a", "b", "c", "d"], matrix)

    best = slab.best(np.array([0.0, 1.0], np.float32), 2)

    assert sorted(best, key=lambda found: -found[0]) == [
        (1.0, "b"),
        (np.float32(0.8).item(), "c"),
        (np.float32(0.8).item(), "d"),
    ]
