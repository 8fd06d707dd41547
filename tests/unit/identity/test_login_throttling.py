from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.memory.unit_of_work import InMemoryUnitOfWork
from adapters.security.common_passwords import ZxcvbnCommonPasswords
from adapters.security.passwords import FakePasswordHasher
from adapters.security.tokens import JwtAccessTokens
from adapters.throttle.memory import InMemoryAttemptStore
from talia_core.identity.auth_service import AuthService
from talia_core.identity.login_throttle import LoginThrottle
from talia_core.shared.clock import FakeClock
from talia_core.shared.errors import RateLimited, Unauthorized
from tests.unit.identity.conftest import PASSWORD

EMAIL = "ana@example.com"
Uow = Callable[[], InMemoryUnitOfWork]


async def _fail(auth: AuthService, email: str = EMAIL, ip: str = "10.0.0.1") -> None:
    with pytest.raises(Unauthorized):
        await auth.login(email=email, password="wrong password 9", ip=ip, user_agent=None)


@pytest.fixture
async def registered(auth: AuthService) -> AuthService:
    await auth.register(email=EMAIL, password=PASSWORD, name="Ana")
    return auth


async def test_five_failures_from_one_address_lock_it_out_of_the_account_with_a_retry_after(
    registered: AuthService, clock: FakeClock
) -> None:
    for _ in range(5):
        await _fail(registered)
    clock.advance(timedelta(minutes=5))
    with pytest.raises(RateLimited) as limited:
        await registered.login(email=EMAIL, password=PASSWORD, ip="10.0.0.1", user_agent=None)
    assert limited.value.retry_after_seconds == 10 * 60


async def test_failures_from_other_addresses_never_lock_the_owner_out(
    registered: AuthService, slept: list[float]
) -> None:
    for n in range(40):
        await _fail(registered, ip=f"6.6.{n // 4}.{n % 4}")
    await registered.login(email=EMAIL, password=PASSWORD, ip="10.0.0.9", user_agent=None)
    assert slept[-1] == 8.0  # slowed to the cap, not refused


async def test_failures_spread_over_addresses_wait_longer_and_longer(
    registered: AuthService, slept: list[float]
) -> None:
    for n in range(9):
        await _fail(registered, ip=f"6.6.6.{n}")
    assert slept == [0.5, 1.0, 2.0, 4.0]


async def test_a_success_ends_the_wait(registered: AuthService, slept: list[float]) -> None:
    for n in range(7):
        await _fail(registered, ip=f"6.6.6.{n}")
    await registered.login(email=EMAIL, password=PASSWORD, ip="10.0.0.9", user_agent=None)
    await _fail(registered, ip="6.6.6.99")
    assert slept == [0.5, 1.0, 2.0]


@given(
    attempts=st.integers(min_value=0, max_value=10_000),
    more=st.integers(min_value=0, max_value=100),
)
def test_the_wait_never_shrinks_as_attempts_grow_and_never_passes_the_cap(
    attempts: int, more: int
) -> None:
    throttle = LoginThrottle(InMemoryAttemptStore(FakeClock()), account_failures=5)
    assert 0.0 <= throttle.delay(attempts) <= throttle.delay(attempts + more) <= 8.0
    assert throttle.delay(5) == 0.0


class CountingHasher(FakePasswordHasher):
    def __init__(self) -> None:
        super().__init__()
        self.verified = 0

    async def verify(self, password_hash: str, password: str) -> bool:
        self.verified += 1
        return await super().verify(password_hash, password)


async def test_the_lock_is_checked_before_the_password_is_looked_at(
    uow: Uow, clock: FakeClock, tokens: JwtAccessTokens, attempts: InMemoryAttemptStore
) -> None:
    hasher = CountingHasher()
    auth = AuthService(
        uow,
        clock,
        hasher=hasher,
        common_passwords=ZxcvbnCommonPasswords(),
        tokens=tokens,
        throttle=LoginThrottle(attempts),
    )
    await auth.register(email=EMAIL, password=PASSWORD, name="Ana")
    for _ in range(5):
        await _fail(auth)
    verified = hasher.verified
    with pytest.raises(RateLimited):
        await auth.login(email="ANA@example.com", password=PASSWORD, ip="10.0.0.1", user_agent=None)
    assert hasher.verified == verified


async def test_the_account_opens_again_when_the_window_ends(
    registered: AuthService, clock: FakeClock
) -> None:
    for _ in range(5):
        await _fail(registered)
    clock.advance(timedelta(minutes=15))
    await registered.login(email=EMAIL, password=PASSWORD, ip=None, user_agent=None)


async def test_a_success_clears_the_account_count(registered: AuthService) -> None:
    for _ in range(4):
        await _fail(registered)
    await registered.login(email=EMAIL, password=PASSWORD, ip="10.0.0.1", user_agent=None)
    for _ in range(4):
        await _fail(registered)
    await registered.login(email=EMAIL, password=PASSWORD, ip="10.0.0.1", user_agent=None)


async def test_twenty_failures_from_one_address_lock_it_for_every_account(
    registered: AuthService,
) -> None:
    for n in range(20):
        await _fail(registered, email=f"guess{n}@example.com", ip="6.6.6.6")
    with pytest.raises(RateLimited):
        await registered.login(email=EMAIL, password=PASSWORD, ip="6.6.6.6", user_agent=None)
    await registered.login(email=EMAIL, password=PASSWORD, ip="10.0.0.1", user_agent=None)


async def test_unknown_accounts_are_throttled_like_real_ones(auth: AuthService) -> None:
    for _ in range(5):
        await _fail(auth, email="nobody@example.com")
    with pytest.raises(RateLimited):
        await auth.login(
            email="nobody@example.com", password=PASSWORD, ip="10.0.0.1", user_agent=None
        )


async def test_successes_from_one_address_never_lock_it(registered: AuthService) -> None:
    for _ in range(30):
        await registered.login(email=EMAIL, password=PASSWORD, ip="10.0.0.1", user_agent=None)


async def test_a_success_does_not_wipe_the_failures_counted_against_its_address(
    registered: AuthService,
) -> None:
    for n in range(19):
        await _fail(registered, email=f"guess{n}@example.com", ip="6.6.6.6")
    await registered.login(email=EMAIL, password=PASSWORD, ip="6.6.6.6", user_agent=None)
    await _fail(registered, email="guess19@example.com", ip="6.6.6.6")
    with pytest.raises(RateLimited):
        await registered.login(email=EMAIL, password=PASSWORD, ip="6.6.6.6", user_agent=None)


async def test_refused_attempts_do_not_extend_the_lock(
    registered: AuthService, clock: FakeClock
) -> None:
    for _ in range(5):
        await _fail(registered)
    for _ in range(10):
        clock.advance(timedelta(minutes=1))
        with pytest.raises(RateLimited):
            await registered.login(email=EMAIL, password=PASSWORD, ip="10.0.0.1", user_agent=None)
    clock.advance(timedelta(minutes=5))
    await registered.login(email=EMAIL, password=PASSWORD, ip=None, user_agent=None)
