from __future__ import annotations

from collections.abc import Callable
from functools import partial

import attrs
import pytest

from adapters.memory.database import InMemoryDatabase
from adapters.memory.email import FakeEmailSender
from adapters.memory.unit_of_work import InMemoryUnitOfWork
from adapters.security.common_passwords import ListedCommonPasswords
from adapters.security.passwords import FakePasswordHasher
from adapters.security.tokens import JwtAccessTokens
from adapters.throttle.memory import InMemoryAttemptStore
from talia_core.identity.account_mail import AccountLinks, AccountMail
from talia_core.identity.auth_service import AuthService
from talia_core.identity.login_throttle import LoginThrottle
from talia_core.identity.model import Principal, Role
from talia_core.identity.recovery import AccountRecovery
from talia_core.identity.user_admin_service import UserAdminService
from talia_core.shared.clock import FakeClock
from talia_core.shared.jobs import JobRunner

SECRET = "unit-test-secret-" + "x" * 64
PASSWORD = "correct horse 42"
COMMON = ListedCommonPasswords(["password", "qwerty", "123456"])
LINKS = AccountLinks(
    verify_email="https://shop.example/verify#{token}",
    reset_password="https://shop.example/reset#{token}",
)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def uow() -> Callable[..., InMemoryUnitOfWork]:
    database = InMemoryDatabase()
    return partial(InMemoryUnitOfWork, database)


@pytest.fixture
def hasher() -> FakePasswordHasher:
    return FakePasswordHasher()


@pytest.fixture
def tokens() -> JwtAccessTokens:
    return JwtAccessTokens(SECRET, issuer="talia-test")


@pytest.fixture
def attempts(clock: FakeClock) -> InMemoryAttemptStore:
    return InMemoryAttemptStore(clock)


@pytest.fixture
def slept() -> list[float]:
    """The waits the login throttle asked for, in order (none is really waited)."""
    return []


@pytest.fixture
def auth(
    uow: Callable[[], InMemoryUnitOfWork],
    clock: FakeClock,
    hasher: FakePasswordHasher,
    tokens: JwtAccessTokens,
    attempts: InMemoryAttemptStore,
    slept: list[float],
) -> AuthService:
    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    throttle = LoginThrottle(attempts, account_failures=5, address_failures=20, sleep=sleep)
    return AuthService(
        uow, clock, hasher=hasher, common_passwords=COMMON, tokens=tokens, throttle=throttle
    )


@pytest.fixture
def admin_service(
    uow: Callable[[], InMemoryUnitOfWork], clock: FakeClock, hasher: FakePasswordHasher
) -> UserAdminService:
    return UserAdminService(uow, clock, hasher=hasher, common_passwords=COMMON)


@pytest.fixture
async def admin(admin_service: UserAdminService, auth: AuthService) -> Principal:
    """The first admin, created from the command line and signed in."""
    await admin_service.provision(
        email="root@talia.test", name="Root", password=PASSWORD, role=Role.ADMIN
    )
    signed_in = await auth.login(
        email="root@talia.test", password=PASSWORD, ip="10.0.0.1", user_agent="tests"
    )
    principal = await auth.authenticate(signed_in.access_token)
    assert principal.role is Role.ADMIN
    return principal


@pytest.fixture
def sender() -> FakeEmailSender:
    return FakeEmailSender()


@pytest.fixture
def recovery(
    uow: Callable[[], InMemoryUnitOfWork], clock: FakeClock, hasher: FakePasswordHasher
) -> AccountRecovery:
    return AccountRecovery(uow, clock, hasher=hasher, common_passwords=COMMON)


def mail_jobs(
    uow: Callable[[], InMemoryUnitOfWork],
    clock: FakeClock,
    sender: FakeEmailSender,
    recovery: AccountRecovery,
) -> JobRunner:
    """Runs the mail jobs, and the reset requests that lead to them, committed so far (call
    ``run_due``); a failed one waits a second."""
    mail = AccountMail(uow, clock, sender, LINKS)
    handlers = {**mail.job_handlers(), **recovery.job_handlers()}
    return JobRunner(uow, clock, handlers, lambda attempts, error: 1.0)


@pytest.fixture
def jobs(
    uow: Callable[[], InMemoryUnitOfWork],
    clock: FakeClock,
    sender: FakeEmailSender,
    recovery: AccountRecovery,
) -> JobRunner:
    return mail_jobs(uow, clock, sender, recovery)


@attrs.frozen
class Accounts:
    """The identity services over one in-memory database, and the mail they send."""

    auth: AuthService
    recovery: AccountRecovery
    jobs: JobRunner
    sender: FakeEmailSender
    clock: FakeClock
    uow: Callable[[], InMemoryUnitOfWork]


def fresh_identity() -> Accounts:
    """Services over an empty database of their own (a property's examples take one each)."""
    uow = partial(InMemoryUnitOfWork, InMemoryDatabase())
    clock = FakeClock()
    return accounts_over(uow, clock, FakePasswordHasher(), FakeEmailSender())


def accounts_over(
    uow: Callable[[], InMemoryUnitOfWork],
    clock: FakeClock,
    hasher: FakePasswordHasher,
    sender: FakeEmailSender,
) -> Accounts:
    auth = AuthService(
        uow,
        clock,
        hasher=hasher,
        common_passwords=COMMON,
        tokens=JwtAccessTokens(SECRET, issuer="talia-test"),
        throttle=LoginThrottle(InMemoryAttemptStore(clock)),
    )
    recovery = AccountRecovery(uow, clock, hasher=hasher, common_passwords=COMMON)
    return Accounts(auth, recovery, mail_jobs(uow, clock, sender, recovery), sender, clock, uow)


@pytest.fixture
def accounts(
    uow: Callable[[], InMemoryUnitOfWork],
    clock: FakeClock,
    hasher: FakePasswordHasher,
    sender: FakeEmailSender,
) -> Accounts:
    return accounts_over(uow, clock, hasher, sender)
