from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.throttle.memory import InMemoryAttemptStore
from talia_core.shared.clock import FakeClock
from tests.contracts.identity.attempt_store import AttemptStoreContract, PassTime


class InMemoryAttemptStoreTests(AttemptStoreContract):
    @pytest.fixture
    def store(self, clock: FakeClock) -> InMemoryAttemptStore:
        return InMemoryAttemptStore(clock)

    @pytest.fixture
    def pass_time(self, clock: FakeClock) -> PassTime:
        async def advance(seconds: float) -> None:
            clock.advance(timedelta(seconds=seconds))

        return advance


async def test_expired_windows_do_not_pile_up_as_new_keys_are_hit(clock: FakeClock) -> None:
    store = InMemoryAttemptStore(clock)
    for round_ in range(20):
        for n in range(1000):
            await store.hit(f"login:address:10.{round_}.{n // 256}.{n % 256}", window_seconds=60)
        clock.advance(timedelta(minutes=2))

    # 20,000 keys were hit, all but the last 1,000 in windows long closed.
    assert len(store) <= 3 * 1000
