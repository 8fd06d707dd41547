"""Mailed tokens on the in-memory fake and on every real database: found while usable, spent
once by one conditional update, even by two requests at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from adapters.security.common_passwords import ZxcvbnCommonPasswords
from adapters.security.passwords import FakePasswordHasher
from talia_core.identity.email_tokens import EmailToken, TokenPurpose, hash_token
from talia_core.identity.model import Role, User
from talia_core.identity.recovery import AccountRecovery
from talia_core.identity.user_admin_service import UserAdminService
from talia_core.shared.clock import FakeClock
from talia_core.shared.errors import Conflict, RuleViolated
from tests.conftest import UowFactory
from tests.integration.identity.test_concurrent_identity_writes import Pause, race

T0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
PASSWORD = "correct horse 42"
HOUR = timedelta(hours=1)
RESET, VERIFY = TokenPurpose.RESET_PASSWORD, TokenPurpose.VERIFY_EMAIL


async def a_user(uow_factory: UowFactory, email: str = "ana@shop.pe") -> User:
    users = UserAdminService(
        uow_factory,
        FakeClock(T0),
        hasher=FakePasswordHasher(),
        common_passwords=ZxcvbnCommonPasswords(),
    )
    return await users.provision(email=email, name="Ana", password=PASSWORD, role=Role.CUSTOMER)


async def issued(
    uow_factory: UowFactory, user: User, purpose: TokenPurpose = RESET, at: datetime = T0
) -> str:
    token, secret = EmailToken.issue(user.id, purpose, at=at, lifetime=HOUR)
    async with uow_factory() as uow:
        await uow.email_tokens.add(token)
        await uow.commit()
    return secret


async def redeem(
    uow_factory: UowFactory, secret: str, purpose: TokenPurpose, at: datetime
) -> str | None:
    async with uow_factory() as uow:
        spent = await uow.email_tokens.redeem(hash_token(secret), purpose, at=at)
        await uow.commit()
    return spent


async def test_a_token_is_found_and_redeemed_while_usable_and_only_once(
    uow_factory: UowFactory,
) -> None:
    user = await a_user(uow_factory)
    secret = await issued(uow_factory, user)
    async with uow_factory(read_only=True) as uow:
        owner = await uow.email_tokens.owner(hash_token(secret), RESET, at=T0)

    first = await redeem(uow_factory, secret, RESET, T0 + timedelta(minutes=5))
    second = await redeem(uow_factory, secret, RESET, T0 + timedelta(minutes=6))

    assert (owner, first, second) == (user.id, user.id, None)
    async with uow_factory(read_only=True) as uow:
        assert await uow.email_tokens.owner(hash_token(secret), RESET, at=T0) is None


@pytest.mark.parametrize(
    ("purpose", "at"),
    [(VERIFY, T0), (RESET, T0 + HOUR), (RESET, T0 + HOUR + timedelta(seconds=1))],
    ids=["other-purpose", "at-expiry", "after-expiry"],
)
async def test_a_token_of_another_purpose_or_past_its_time_is_not_redeemed(
    uow_factory: UowFactory, purpose: TokenPurpose, at: datetime
) -> None:
    secret = await issued(uow_factory, await a_user(uow_factory))

    assert await redeem(uow_factory, secret, purpose, at) is None
    assert await redeem(uow_factory, secret, RESET, T0) is not None


async def test_using_all_of_a_users_tokens_spares_other_purposes_and_other_users(
    uow_factory: UowFactory,
) -> None:
    ana, luis = await a_user(uow_factory), await a_user(uow_factory, "luis@shop.pe")
    resets = [await issued(uow_factory, ana) for _ in range(2)]
    verification = await issued(uow_factory, ana, VERIFY)
    others = await issued(uow_factory, luis)

    async with uow_factory() as uow:
        used = await uow.email_tokens.use_all(ana.id, RESET, at=T0)
        await uow.commit()

    assert used == 2
    assert [await redeem(uow_factory, s, RESET, T0) for s in resets] == [None, None]
    assert await redeem(uow_factory, verification, VERIFY, T0) == ana.id
    assert await redeem(uow_factory, others, RESET, T0) == luis.id


async def test_two_tokens_with_one_hash_are_refused_by_the_database(
    uow_factory: UowFactory,
) -> None:
    user = await a_user(uow_factory)
    token, _ = EmailToken.issue(user.id, RESET, at=T0, lifetime=HOUR)
    async with uow_factory() as uow:
        await uow.email_tokens.add(token)
        await uow.commit()

    with pytest.raises(Conflict):
        async with uow_factory() as uow:
            await uow.email_tokens.add(EmailToken(user.id, VERIFY, token.token_hash, T0, T0 + HOUR))
            await uow.commit()


async def test_of_two_resets_with_one_token_at_once_exactly_one_sets_its_password(
    uow_factory: UowFactory,
) -> None:
    user = await a_user(uow_factory)
    secret = await issued(uow_factory, user)
    pause = Pause("email_tokens", "redeem")
    recovery = AccountRecovery(
        pause.units(uow_factory),
        FakeClock(T0),
        hasher=FakePasswordHasher(),
        common_passwords=ZxcvbnCommonPasswords(),
    )

    outcomes = await race(
        pause,
        lambda: recovery.reset_password(secret, "first new pass 1"),
        lambda: recovery.reset_password(secret, "second new pass 2"),
    )

    assert outcomes[0] is None
    assert isinstance(outcomes[1], RuleViolated)
    assert outcomes[1].fields == {"token": "invalid"}
    async with uow_factory(read_only=True) as uow:
        stored = await uow.users.get(user.id)
    assert await FakePasswordHasher().verify(stored.password_hash, "first new pass 1")
