"""Identity writes that race, on the in-memory fake and on every real database.

Each race is staged, not left to chance: the first use case stops right after a chosen
read, the second runs as far as the database lets it, then the first goes on. A row read
to be changed must stay locked until its transaction ends, or the first use case writes
back a stale copy over what the second committed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

import pytest

from adapters.security.common_passwords import ZxcvbnCommonPasswords
from adapters.security.passwords import FakePasswordHasher
from adapters.security.tokens import JwtAccessTokens
from adapters.throttle.memory import InMemoryAttemptStore
from talia_core.identity.auth_service import AuthService
from talia_core.identity.login_throttle import LoginThrottle
from talia_core.identity.model import Principal, RevocationReason, Role, User
from talia_core.identity.user_admin_service import UserAdminService
from talia_core.shared.clock import FakeClock
from talia_core.shared.errors import Unauthorized
from tests.conftest import UowFactory

T0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
PASSWORD = "correct horse 42"
# Long enough for the second use case to commit when nothing holds it back.
HEAD_START = 0.3


class Pause:
    """Once armed, stops the next call of ``repository.method`` after it returns."""

    def __init__(self, repository: str, method: str) -> None:
        self.repository = repository
        self.method = method
        self.armed = False
        self.reached = asyncio.Event()
        self.go_on = asyncio.Event()

    def units(self, inner: UowFactory) -> Callable[..., Any]:
        return lambda **kwargs: _PausingUnitOfWork(inner(**kwargs), self)


class _PausingRepository:
    def __init__(self, inner: Any, pause: Pause) -> None:
        self._inner = inner
        self._pause = pause

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._inner, name)
        if name != self._pause.method:
            return method

        async def then_pause(*args: Any, **kwargs: Any) -> Any:
            result = await method(*args, **kwargs)
            if self._pause.armed:
                self._pause.armed = False
                self._pause.reached.set()
                await self._pause.go_on.wait()
            return result

        return then_pause


class _PausingUnitOfWork:
    def __init__(self, inner: Any, pause: Pause) -> None:
        self._inner = inner
        self._pause = pause

    async def __aenter__(self) -> _PausingUnitOfWork:
        await self._inner.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._inner.__aexit__(exc_type, exc, tb)

    def __getattr__(self, name: str) -> Any:
        found = getattr(self._inner, name)
        return _PausingRepository(found, self._pause) if name == self._pause.repository else found


async def race(
    pause: Pause, first: Callable[[], Awaitable[Any]], second: Callable[[], Awaitable[Any]]
) -> list[Any]:
    """Run ``first`` up to the pause, give ``second`` a head start, then let both finish."""
    pause.armed = True
    first_task = asyncio.create_task(first())
    await asyncio.wait_for(pause.reached.wait(), timeout=10)
    second_task = asyncio.create_task(second())
    await asyncio.sleep(HEAD_START)
    pause.go_on.set()
    return await asyncio.wait_for(
        asyncio.gather(first_task, second_task, return_exceptions=True), timeout=30
    )


def services(
    units: Callable[..., Any], hasher: FakePasswordHasher
) -> tuple[AuthService, UserAdminService]:
    clock = FakeClock(T0)
    auth = AuthService(
        units,
        clock,
        hasher=hasher,
        common_passwords=ZxcvbnCommonPasswords(),
        tokens=JwtAccessTokens("s" * 32, issuer="talia-test"),
        throttle=LoginThrottle(InMemoryAttemptStore(clock)),
    )
    return auth, UserAdminService(
        units, clock, hasher=hasher, common_passwords=ZxcvbnCommonPasswords()
    )


def acting_admin() -> Principal:
    return Principal(
        user_id="admin-on-duty", session_id="s", role=Role.ADMIN, email="root@shop.pe", name="Root"
    )


async def stored_user(uow_factory: UowFactory, email: str) -> User:
    async with uow_factory() as uow:
        user = await uow.users.find_by_email(email)
    assert user is not None
    return user


async def test_a_logout_during_a_refresh_stays_and_no_token_outlives_it(
    uow_factory: UowFactory,
) -> None:
    pause = Pause("sessions", "get_with_user")
    auth, _ = services(pause.units(uow_factory), FakePasswordHasher())
    await auth.register(email="ana@shop.pe", password=PASSWORD, name="Ana")
    tokens = await auth.login(email="ana@shop.pe", password=PASSWORD, ip=None, user_agent=None)
    principal = await auth.authenticate(tokens.access_token)

    refreshed, logged_out = await race(
        pause,
        lambda: auth.refresh(tokens.refresh_token, ip="10.0.0.9", user_agent="phone"),
        lambda: auth.logout(principal),
    )

    assert logged_out is None
    async with uow_factory() as uow:
        session = await uow.sessions.get(tokens.session_id)
    assert session.revoked_reason is RevocationReason.LOGOUT
    if not isinstance(refreshed, BaseException):  # issued before the logout: now refused
        with pytest.raises(Unauthorized):
            await auth.refresh(refreshed.refresh_token, ip=None, user_agent=None)
        with pytest.raises(Unauthorized):
            await auth.authenticate(refreshed.access_token)


async def test_a_login_that_rehashes_the_password_does_not_undo_a_deactivation(
    uow_factory: UowFactory,
) -> None:
    pause = Pause("users", "get")
    _, admin = services(uow_factory, FakePasswordHasher(version=1))
    ana = await admin.provision(email="ana@shop.pe", name="Ana", password=PASSWORD, role=Role.AGENT)
    # A newer hasher: the login stores a fresh hash of the password, rewriting the user row.
    auth, admin = services(pause.units(uow_factory), FakePasswordHasher(version=2))

    signed_in, deactivated = await race(
        pause,
        lambda: auth.login(email="ana@shop.pe", password=PASSWORD, ip=None, user_agent=None),
        lambda: admin.update_user(acting_admin(), ana.id, active=False),
    )

    assert not isinstance(deactivated, BaseException), deactivated
    assert (await stored_user(uow_factory, "ana@shop.pe")).active is False
    if not isinstance(signed_in, BaseException):  # signed in first: the session was revoked
        with pytest.raises(Unauthorized):
            await auth.authenticate(signed_in.access_token)


async def test_two_admins_changing_one_user_at_once_both_have_their_change_kept(
    uow_factory: UowFactory,
) -> None:
    pause = Pause("users", "get")
    _, admin = services(pause.units(uow_factory), FakePasswordHasher())
    ana = await admin.provision(
        email="ana@shop.pe", name="Ana", password=PASSWORD, role=Role.CUSTOMER
    )

    renamed, promoted = await race(
        pause,
        lambda: admin.update_user(acting_admin(), ana.id, name="Ana María"),
        lambda: admin.update_user(acting_admin(), ana.id, role=Role.AGENT),
    )

    assert not isinstance(renamed, BaseException), renamed
    assert not isinstance(promoted, BaseException), promoted
    stored = await stored_user(uow_factory, "ana@shop.pe")
    assert (stored.name, stored.role) == ("Ana María", Role.AGENT)


async def test_of_two_admins_demoted_at_once_exactly_one_is_refused_and_neither_deadlocks(
    uow_factory: UowFactory,
) -> None:
    pause = Pause("users", "get")
    _, admin = services(pause.units(uow_factory), FakePasswordHasher())
    first = await admin.provision(email="a@shop.pe", name="A", password=PASSWORD, role=Role.ADMIN)
    second = await admin.provision(email="b@shop.pe", name="B", password=PASSWORD, role=Role.ADMIN)

    results = await race(
        pause,
        lambda: admin.update_user(acting_admin(), first.id, role=Role.AGENT),
        lambda: admin.update_user(acting_admin(), second.id, active=False),
    )

    assert sorted(type(r).__name__ for r in results) == ["Conflict", "User"], results
    async with uow_factory() as uow:
        assert len(await uow.users.active_admin_ids()) == 1
