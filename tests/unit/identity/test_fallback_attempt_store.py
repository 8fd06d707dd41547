from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.throttle.fallback import FallbackAttemptStore
from adapters.throttle.memory import InMemoryAttemptStore
from talia_core.identity.ports import AttemptWindow
from talia_core.shared.clock import FakeClock
from talia_core.shared.errors import ExternalServiceUnavailable
from tests.contracts.identity.attempt_store import AttemptStoreContract, PassTime


class SwitchableStore(InMemoryAttemptStore):
    """An in-memory store that can be made unreachable, as Redis can."""

    down = False

    def _check(self) -> None:
        if self.down:
            raise ExternalServiceUnavailable("redis", "ConnectionError")

    async def current(self, key: str) -> AttemptWindow:
        self._check()
        return await super().current(key)

    async def hit(self, key: str, *, window_seconds: int) -> AttemptWindow:
        self._check()
        return await super().hit(key, window_seconds=window_seconds)

    async def take_back(self, key: str) -> None:
        self._check()
        await super().take_back(key)

    async def clear(self, key: str) -> None:
        self._check()
        await super().clear(key)


class WhileTheSharedStoreIsDownTests(AttemptStoreContract):
    @pytest.fixture
    def store(self, clock: FakeClock) -> FallbackAttemptStore:
        shared = SwitchableStore(clock)
        shared.down = True
        return FallbackAttemptStore(shared, InMemoryAttemptStore(clock))

    @pytest.fixture
    def pass_time(self, clock: FakeClock) -> PassTime:
        async def advance(seconds: float) -> None:
            clock.advance(timedelta(seconds=seconds))

        return advance


async def test_counts_go_back_to_the_shared_store_once_it_answers_again(clock: FakeClock) -> None:
    shared = SwitchableStore(clock)
    store = FallbackAttemptStore(shared, InMemoryAttemptStore(clock))
    shared.down = True
    assert (await store.hit("k", window_seconds=60)).count == 1
    shared.down = False
    assert (await store.hit("k", window_seconds=60)).count == 1
    assert (await shared.current("k")).count == 1


async def test_a_success_during_an_outage_clears_the_local_count(clock: FakeClock) -> None:
    shared = SwitchableStore(clock)
    shared.down = True
    store = FallbackAttemptStore(shared, InMemoryAttemptStore(clock))
    await store.hit("k", window_seconds=60)
    await store.clear("k")
    assert (await store.current("k")).count == 0
