"""The contract every ``AttemptStore`` passes: the in-memory one and Redis.

Subclass ``AttemptStoreContract`` and provide two fixtures: ``store`` (a fresh, empty
store) and ``pass_time`` (an async callable that lets the given seconds go by for it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from functools import partial

from adapters.memory.database import InMemoryDatabase
from adapters.memory.unit_of_work import InMemoryUnitOfWork
from adapters.security.common_passwords import ZxcvbnCommonPasswords
from adapters.security.passwords import FakePasswordHasher
from adapters.security.tokens import JwtAccessTokens
from talia_core.identity.auth_service import AuthService
from talia_core.identity.login_throttle import LoginThrottle
from talia_core.identity.ports import AttemptStore, AttemptWindow
from talia_core.shared.clock import SystemClock
from talia_core.shared.errors import RateLimited, Unauthorized

PassTime = Callable[[float], Awaitable[None]]


class SlowPasswordHasher(FakePasswordHasher):
    """Gives the event loop away while it verifies, as the real (threaded) one does."""

    async def verify(self, password_hash: str, password: str) -> bool:
        await asyncio.sleep(0.01)
        return await super().verify(password_hash, password)


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

    async def test_taking_back_a_hit_uncounts_it_in_its_window(self, store: AttemptStore) -> None:
        await store.hit("k", window_seconds=60)
        await store.hit("k", window_seconds=60)
        await store.take_back("k")
        current = await store.current("k")
        assert current.count == 1
        assert 59 <= current.resets_in_seconds <= 60

    async def test_taking_back_never_counts_below_zero_nor_opens_a_window(
        self, store: AttemptStore
    ) -> None:
        await store.take_back("never-hit")
        await store.hit("k", window_seconds=60)
        await store.take_back("k")
        await store.take_back("k")
        assert await store.current("never-hit") == AttemptWindow(0, 0)
        assert (await store.current("k")).count == 0
        assert (await store.hit("k", window_seconds=60)).count == 1

    async def test_a_burst_of_concurrent_wrong_passwords_gets_no_more_tries_than_the_limit(
        self, store: AttemptStore
    ) -> None:
        auth = AuthService(
            partial(InMemoryUnitOfWork, InMemoryDatabase()),
            SystemClock(),
            hasher=SlowPasswordHasher(),
            common_passwords=ZxcvbnCommonPasswords(),
            tokens=JwtAccessTokens("s" * 32, issuer="talia-test"),
            throttle=LoginThrottle(store, account_failures=5, address_failures=20),
        )
        await auth.register(email="ana@example.com", password="correct horse 42", name="Ana")

        results = await asyncio.gather(
            *(
                auth.login(
                    email="ana@example.com", password=f"guess {n}", ip="6.6.6.6", user_agent=None
                )
                for n in range(40)
            ),
            return_exceptions=True,
        )

        refused = [type(r).__name__ for r in results]
        # The account's limit (5) bounds the password checks; fewer may run when the
        # address's count (20) passes its limit first, as attempts interleave.
        assert 1 <= refused.count(Unauthorized.__name__) <= 5, refused
        assert refused.count(Unauthorized.__name__) + refused.count(RateLimited.__name__) == 40
