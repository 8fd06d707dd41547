"""Registering answers the same whether or not the address has an account."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from adapters.memory.email import FakeEmailSender
from adapters.memory.unit_of_work import InMemoryUnitOfWork
from adapters.security.passwords import FakePasswordHasher
from adapters.security.tokens import JwtAccessTokens
from adapters.throttle.memory import InMemoryAttemptStore
from talia_core.identity.auth_service import AuthService
from talia_core.identity.login_throttle import LoginThrottle
from talia_core.identity.model import AuditAction, Role, User
from talia_core.identity.recovery import AccountRecovery
from talia_core.shared.clock import FakeClock
from talia_core.shared.errors import RuleViolated
from talia_core.shared.jobs import JobRunner
from talia_core.shared.pagination import PageRequest
from tests.unit.identity.conftest import COMMON, PASSWORD
from tests.unit.identity.mail import mail_sent, token_in

Uow = Callable[[], InMemoryUnitOfWork]
EMAIL = "ana@example.com"


class CountingHasher(FakePasswordHasher):
    def __init__(self) -> None:
        super().__init__()
        self.hashed = 0

    async def hash(self, password: str) -> str:
        self.hashed += 1
        return await super().hash(password)


async def _user(uow: Uow, email: str = EMAIL) -> User:
    async with uow() as work:
        found = await work.users.find_by_email(email)
    assert found is not None
    return found


async def _actions(uow: Uow) -> list[str]:
    async with uow() as work:
        page = await work.audit_events.find(
            PageRequest(limit=200), actor_id=None, action=None, since=None
        )
    return [event.action for event in page.items]


async def test_a_new_address_gets_an_active_unverified_customer_and_a_verification_link(
    auth: AuthService, uow: Uow, jobs: JobRunner, sender: FakeEmailSender
) -> None:
    await auth.register(email="  Ana@Example.COM ", password=PASSWORD, name=" Ana ")

    user = await _user(uow)
    assert (user.email, user.name, user.role, user.active) == (EMAIL, "Ana", Role.CUSTOMER, True)
    assert not user.email_verified
    assert PASSWORD not in user.password_hash
    [message] = await mail_sent(jobs, sender)
    assert message.to == EMAIL
    assert token_in(message, "verify")
    assert AuditAction.REGISTERED in await _actions(uow)


async def test_a_taken_address_changes_nothing_and_its_owner_is_told_with_a_reset_link(
    auth: AuthService,
    recovery: AccountRecovery,
    uow: Uow,
    jobs: JobRunner,
    sender: FakeEmailSender,
) -> None:
    await auth.register(email=EMAIL, password=PASSWORD, name="Ana")
    await mail_sent(jobs, sender)
    before = await _user(uow)

    await auth.register(email="ANA@example.com", password="another pass 99", name="Impostor")

    assert await _user(uow) == before
    [message] = await mail_sent(jobs, sender)
    assert (message.to, message.subject) == (EMAIL, "Ya tienes una cuenta")
    await recovery.reset_password(token_in(message, "reset"), "brand new pass 7")
    assert AuditAction.REGISTRATION_REPEATED in await _actions(uow)


async def test_a_taken_address_costs_the_same_password_hash_as_a_new_one(
    uow: Uow, clock: FakeClock, tokens: JwtAccessTokens, attempts: InMemoryAttemptStore
) -> None:
    hasher = CountingHasher()
    counted = AuthService(
        uow,
        clock,
        hasher=hasher,
        common_passwords=COMMON,
        tokens=tokens,
        throttle=LoginThrottle(attempts),
    )
    await counted.register(email=EMAIL, password=PASSWORD, name="Ana")
    await counted.register(email=EMAIL, password=PASSWORD, name="Ana")

    assert hasher.hashed == 2


async def test_the_owner_of_a_taken_address_is_told_at_most_once_an_hour(
    auth: AuthService, clock: FakeClock, jobs: JobRunner, sender: FakeEmailSender
) -> None:
    await auth.register(email=EMAIL, password=PASSWORD, name="Ana")
    await mail_sent(jobs, sender)
    clock.current = clock.current.replace(minute=5)

    for _ in range(3):
        await auth.register(email=EMAIL, password=PASSWORD, name="Ana")
    told = await mail_sent(jobs, sender)
    clock.current = clock.current.replace(minute=5).replace(hour=clock.current.hour + 1)
    await auth.register(email=EMAIL, password=PASSWORD, name="Ana")
    told_again = await mail_sent(jobs, sender)

    assert (len(told), len(told_again)) == (1, 1)


@pytest.mark.parametrize("taken", [False, True], ids=["new", "taken"])
async def test_a_password_the_rules_refuse_is_refused_whether_or_not_the_address_is_taken(
    auth: AuthService, taken: bool
) -> None:
    if taken:
        await auth.register(email=EMAIL, password=PASSWORD, name="Ana")
    with pytest.raises(RuleViolated) as refused:
        await auth.register(email=EMAIL, password="short1", name="Ana")
    assert "password" in refused.value.fields


async def test_an_inactive_account_is_mailed_nothing(
    auth: AuthService, uow: Uow, clock: FakeClock, jobs: JobRunner, sender: FakeEmailSender
) -> None:
    await auth.register(email=EMAIL, password=PASSWORD, name="Ana")
    user = await _user(uow)
    async with uow() as work:
        user.set_active(False, at=clock.now())
        await work.users.update(user)
        await work.commit()

    assert await mail_sent(jobs, sender) == []
