"""The contract every ``AttemptStore`` passes: the in-memory one and Redis.

Subclass ``AttemptStoreContract`` and provide two fixtures: ``store`` (a fresh, empty
store) and ``pass_time`` (an async callable that lets the given seconds go by for it).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from talia_core.identity.ports import AttemptStore, AttemptWindow

PassTime = Callable[[float], Awaitable[None]]


class AttemptStoreContract:
    async def test_an_untouched_key_has_no_attempts(self, store: AttemptStore) -> None:
        assert await store.current("nobody") == AttemptWindow(0, 0)

    async def test_hits_count_up_within_one_window(self, store: AttemptStore) -> None:
        for expected in (1, 2, 3):
            window = await store.hit("k", window_seconds=60)
            assert window.count == expected
        current = await store.current("k")
        assert current.count == 3
        assert 59 <= current.resets_in_seconds <= 60

    async def test_later_hits_do_not_extend_the_window(
        self, store: AttemptStore, pass_time: PassTime
    ) -> None:
        await store.hit("k", window_seconds=3)
        await pass_time(1.2)
        window = await store.hit("k", window_seconds=3)
        assert window.resets_in_seconds <= 2

    async def test_the_count_starts_again_after_the_window(
        self, store: AttemptStore, pass_time: PassTime
    ) -> None:
        await store.hit("k", window_seconds=1)
        await store.hit("k", window_seconds=1)
        await pass_time(1.2)
        assert (await store.current("k")).count == 0
        assert (await store.hit("k", window_seconds=1)).count == 1

    async def test_clearing_a_key_forgets_its_attempts_only(self, store: AttemptStore) -> None:
        await store.hit("a", window_seconds=60)
        await store.hit("b", window_seconds=60)
        await store.clear("a")
        await store.clear("never-seen")
        assert (await store.current("a")).count == 0
        assert (await store.current("b")).count == 1
