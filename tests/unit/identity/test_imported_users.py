"""Users brought over from the shop's older system sign in with their old passwords."""

from __future__ import annotations

from collections.abc import Callable

import bcrypt
import pytest

from adapters.memory.unit_of_work import InMemoryUnitOfWork
from adapters.security.common_passwords import ListedCommonPasswords
from adapters.security.passwords import Argon2PasswordHasher
from adapters.security.tokens import JwtAccessTokens
from adapters.throttle.memory import InMemoryAttemptStore
from talia_core.identity.auth_service import AuthService
from talia_core.identity.login_throttle import LoginThrottle
from talia_core.identity.model import Role
from talia_core.identity.user_admin_service import UserAdminService
from talia_core.shared.clock import FakeClock
from talia_core.shared.errors import Conflict, RuleViolated

OLD = "vieja-clave-2019"
Uow = Callable[[], InMemoryUnitOfWork]


@pytest.fixture
def services(
    uow: Uow, clock: FakeClock, tokens: JwtAccessTokens
) -> tuple[UserAdminService, AuthService]:
    hasher = Argon2PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    common = ListedCommonPasswords(["password"])
    throttle = LoginThrottle(InMemoryAttemptStore(clock))
    return (
        UserAdminService(uow, clock, hasher=hasher, common_passwords=common),
        AuthService(
            uow, clock, hasher=hasher, common_passwords=common, tokens=tokens, throttle=throttle
        ),
    )


async def test_an_imported_bcrypt_user_signs_in_and_is_rehashed_with_argon2id(
    services: tuple[UserAdminService, AuthService], uow: Uow
) -> None:
    admin, auth = services
    old_hash = bcrypt.hashpw(OLD.encode(), bcrypt.gensalt(rounds=4)).decode()
    await admin.import_user(email="Rosa@Example.com", name="Rosa", password_hash=old_hash)

    await auth.login(email="rosa@example.com", password=OLD, ip=None, user_agent=None)

    async with uow() as work:
        user = await work.users.find_by_email("rosa@example.com")
    assert user is not None
    assert user.role is Role.CUSTOMER
    assert user.password_hash.startswith("$argon2id$")
    await auth.login(email="rosa@example.com", password=OLD, ip=None, user_agent=None)


async def test_importing_an_unreadable_hash_or_a_taken_email_is_refused(
    services: tuple[UserAdminService, AuthService],
) -> None:
    admin, _ = services
    with pytest.raises(RuleViolated) as refused:
        await admin.import_user(email="a@example.com", name="A", password_hash="5f4dcc3b5aa7")
    assert refused.value.fields == {"password_hash": "unknown format"}
    old_hash = bcrypt.hashpw(OLD.encode(), bcrypt.gensalt(rounds=4)).decode()
    await admin.import_user(email="a@example.com", name="A", password_hash=old_hash)
    with pytest.raises(Conflict):
        await admin.import_user(email="a@example.com", name="A", password_hash=old_hash)
