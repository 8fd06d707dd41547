from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.throttle.memory import InMemoryAttemptStore
from talia_core.shared.clock import FakeClock
from tests.contracts.identity.attempt_store import AttemptStoreContract, PassTime


class TestInMemoryAttemptStore(AttemptStoreContract):
    @pytest.fixture
    def store(self, clock: FakeClock) -> InMemoryAttemptStore:
        return InMemoryAttemptStore(clock)

    @pytest.fixture
    def pass_time(self, clock: FakeClock) -> PassTime:
        async def advance(seconds: float) -> None:
            clock.advance(timedelta(seconds=seconds))

        return advance
