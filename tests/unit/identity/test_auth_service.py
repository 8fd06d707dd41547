from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

import pytest

from adapters.memory.unit_of_work import InMemoryUnitOfWork
from adapters.security.common_passwords import ZxcvbnCommonPasswords
from adapters.security.passwords import FakePasswordHasher
from adapters.security.tokens import JwtAccessTokens
from adapters.throttle.memory import InMemoryAttemptStore
from talia_core.identity.auth_service import AuthService, IssuedTokens
from talia_core.identity.login_throttle import LoginThrottle
from talia_core.identity.model import AuditAction, AuditEvent, RevocationReason, Role
from talia_core.shared.clock import FakeClock
from talia_core.shared.errors import NotFound, RuleViolated, Unauthorized
from talia_core.shared.pagination import PageRequest
from tests.unit.identity.conftest import PASSWORD

Uow = Callable[[], InMemoryUnitOfWork]
EMAIL = "ana@example.com"


async def _signed_in(auth: AuthService, email: str = EMAIL) -> IssuedTokens:
    await auth.register(email=email, password=PASSWORD, name="Ana")
    return await auth.login(email=email, password=PASSWORD, ip="10.0.0.7", user_agent="phone")


async def _audit(uow: Uow) -> list[AuditEvent]:
    async with uow() as work:
        page = await work.audit_events.find(
            PageRequest(limit=200), actor_id=None, action=None, since=None
        )
    return list(page.items)


async def test_registering_with_a_weak_password_names_the_password_field(
    auth: AuthService,
) -> None:
    with pytest.raises(RuleViolated) as refused:
        await auth.register(email=EMAIL, password="short1", name="Ana")
    assert "password" in refused.value.fields


async def test_logging_in_returns_tokens_that_authenticate_the_user(
    auth: AuthService, clock: FakeClock
) -> None:
    tokens = await _signed_in(auth)
    assert tokens.expires_in == 15 * 60
    assert tokens.refresh_expires_at == clock.now() + timedelta(days=7)
    principal = await auth.authenticate(tokens.access_token)
    assert (principal.user_id, principal.session_id) == (tokens.user.id, tokens.session_id)
    assert (principal.email, principal.role) == (EMAIL, Role.CUSTOMER)


async def test_logging_in_is_recorded_with_where_from(auth: AuthService, uow: Uow) -> None:
    tokens = await _signed_in(auth)
    [login] = [e for e in await _audit(uow) if e.action == AuditAction.LOGIN]
    assert (login.actor_id, login.ip, login.user_agent) == (tokens.user.id, "10.0.0.7", "phone")


@pytest.mark.parametrize(
    ("email", "password"), [(EMAIL, "wrong password 1"), ("nobody@example.com", PASSWORD)]
)
async def test_a_failed_login_is_refused_alike_and_its_audit_entry_is_kept(
    auth: AuthService, uow: Uow, email: str, password: str
) -> None:
    await auth.register(email=EMAIL, password=PASSWORD, name="Ana")
    with pytest.raises(Unauthorized, match="invalid e-mail or password"):
        await auth.login(email=email, password=password, ip="10.0.0.9", user_agent="bot")
    [failed] = [e for e in await _audit(uow) if e.action == AuditAction.LOGIN_FAILED]
    assert (failed.actor_email, failed.ip) == (email, "10.0.0.9")


async def test_a_stale_password_hash_is_upgraded_on_login(
    uow: Uow,
    clock: FakeClock,
    tokens: JwtAccessTokens,
    attempts: InMemoryAttemptStore,
) -> None:
    def service(version: int) -> AuthService:
        hasher = FakePasswordHasher(version=version)
        return AuthService(
            uow,
            clock,
            hasher=hasher,
            common_passwords=ZxcvbnCommonPasswords(),
            tokens=tokens,
            throttle=LoginThrottle(attempts),
        )

    await service(1).register(email=EMAIL, password=PASSWORD, name="Ana")
    signed_in = await service(2).login(email=EMAIL, password=PASSWORD, ip=None, user_agent=None)
    async with uow() as work:
        assert (await work.users.get(signed_in.user.id)).password_hash.startswith("fake2$")


async def test_refreshing_rotates_the_refresh_token_within_the_same_session(
    auth: AuthService,
) -> None:
    first = await _signed_in(auth)
    second = await auth.refresh(first.refresh_token, ip="10.0.0.8", user_agent="laptop")
    assert second.refresh_token != first.refresh_token
    assert second.session_id == first.session_id
    assert (await auth.authenticate(second.access_token)).session_id == first.session_id
    third = await auth.refresh(second.refresh_token, ip=None, user_agent=None)
    assert third.session_id == first.session_id


async def test_refreshing_updates_when_and_where_the_session_was_last_used(
    auth: AuthService, clock: FakeClock
) -> None:
    first = await _signed_in(auth)
    clock.advance(timedelta(hours=1))
    await auth.refresh(first.refresh_token, ip="10.0.0.8", user_agent="laptop")
    principal = await auth.authenticate((await _login_again(auth)).access_token)
    [session, *_] = [
        s
        for s in (await auth.list_sessions(principal, PageRequest())).items
        if s.id == first.session_id
    ]
    assert (session.last_used_at, session.ip, session.user_agent) == (
        clock.now(),
        "10.0.0.8",
        "laptop",
    )


async def _login_again(auth: AuthService) -> IssuedTokens:
    return await auth.login(email=EMAIL, password=PASSWORD, ip=None, user_agent=None)


async def test_spent_refresh_token_revokes_its_family(
    auth: AuthService, uow: Uow, clock: FakeClock
) -> None:
    first = await _signed_in(auth)
    second = await auth.refresh(first.refresh_token, ip=None, user_agent=None)
    clock.advance(timedelta(seconds=31))

    with pytest.raises(Unauthorized, match="already used"):
        await auth.refresh(first.refresh_token, ip="6.6.6.6", user_agent="thief")

    with pytest.raises(Unauthorized):
        await auth.refresh(second.refresh_token, ip=None, user_agent=None)
    with pytest.raises(Unauthorized):
        await auth.authenticate(second.access_token)
    async with uow() as work:
        session = await work.sessions.get(first.session_id)
    assert session.revoked_reason is RevocationReason.REFRESH_TOKEN_REUSED
    [reuse] = [e for e in await _audit(uow) if e.action == AuditAction.REFRESH_TOKEN_REUSED]
    assert (reuse.target, reuse.ip) == (first.session_id, "6.6.6.6")


async def test_a_reused_token_leaves_the_users_other_sessions_alone(
    auth: AuthService, clock: FakeClock
) -> None:
    first = await _signed_in(auth)
    other = await _login_again(auth)
    await auth.refresh(first.refresh_token, ip=None, user_agent=None)
    clock.advance(timedelta(minutes=1))
    with pytest.raises(Unauthorized):
        await auth.refresh(first.refresh_token, ip=None, user_agent=None)
    assert (await auth.authenticate(other.access_token)).session_id == other.session_id


async def test_concurrent_refreshes_with_one_token_all_get_the_same_successor(
    auth: AuthService,
) -> None:
    tokens = await _signed_in(auth)
    results = await asyncio.gather(
        *(auth.refresh(tokens.refresh_token, ip=None, user_agent=None) for _ in range(5))
    )
    assert len({r.refresh_token for r in results}) == 1
    for result in results:
        assert (await auth.authenticate(result.access_token)).session_id == tokens.session_id
    again = await auth.refresh(results[0].refresh_token, ip=None, user_agent=None)
    assert again.refresh_token != results[0].refresh_token


async def test_a_refresh_retried_within_the_grace_window_keeps_the_session(
    auth: AuthService, clock: FakeClock
) -> None:
    tokens = await _signed_in(auth)
    lost = await auth.refresh(tokens.refresh_token, ip=None, user_agent=None)
    clock.advance(timedelta(seconds=29))
    retried = await auth.refresh(tokens.refresh_token, ip=None, user_agent=None)
    assert retried.refresh_token == lost.refresh_token
    assert retried.refresh_expires_at == lost.refresh_expires_at
    await auth.refresh(retried.refresh_token, ip=None, user_agent=None)


async def test_after_the_grace_window_a_spent_token_still_revokes_the_family(
    auth: AuthService, clock: FakeClock
) -> None:
    tokens = await _signed_in(auth)
    successor = await auth.refresh(tokens.refresh_token, ip=None, user_agent=None)
    clock.advance(timedelta(seconds=31))
    with pytest.raises(Unauthorized, match="already used"):
        await auth.refresh(tokens.refresh_token, ip=None, user_agent=None)
    with pytest.raises(Unauthorized):
        await auth.authenticate(successor.access_token)


async def test_an_unknown_refresh_token_is_refused(auth: AuthService) -> None:
    await _signed_in(auth)
    with pytest.raises(Unauthorized):
        await auth.refresh("not-a-token-we-issued", ip=None, user_agent=None)


async def test_a_refresh_token_expires_after_its_lifetime(
    auth: AuthService, clock: FakeClock
) -> None:
    tokens = await _signed_in(auth)
    clock.advance(timedelta(days=7))
    with pytest.raises(Unauthorized, match="expired"):
        await auth.refresh(tokens.refresh_token, ip=None, user_agent=None)


async def test_rotation_cannot_outlive_the_absolute_session_limit(
    auth: AuthService, clock: FakeClock
) -> None:
    tokens = await _signed_in(auth)
    for _ in range(4):
        clock.advance(timedelta(days=6))
        tokens = await auth.refresh(tokens.refresh_token, ip=None, user_agent=None)
    assert tokens.refresh_expires_at == tokens.user.created_at + timedelta(days=30)
    clock.advance(timedelta(days=6))
    with pytest.raises(Unauthorized):
        await auth.refresh(tokens.refresh_token, ip=None, user_agent=None)


async def test_logging_out_ends_the_session_at_once(auth: AuthService, uow: Uow) -> None:
    tokens = await _signed_in(auth)
    principal = await auth.authenticate(tokens.access_token)
    await auth.logout(principal, ip="10.0.0.7", user_agent="phone")
    with pytest.raises(Unauthorized):
        await auth.authenticate(tokens.access_token)
    with pytest.raises(Unauthorized):
        await auth.refresh(tokens.refresh_token, ip=None, user_agent=None)
    assert AuditAction.LOGOUT in [e.action for e in await _audit(uow)]


async def test_an_expired_access_token_does_not_authenticate(
    auth: AuthService, clock: FakeClock
) -> None:
    tokens = await _signed_in(auth)
    clock.advance(timedelta(minutes=16))
    with pytest.raises(Unauthorized, match="expired"):
        await auth.authenticate(tokens.access_token)


async def test_a_deactivated_user_is_no_longer_authenticated(auth: AuthService, uow: Uow) -> None:
    tokens = await _signed_in(auth)
    async with uow() as work:
        user = await work.users.get(tokens.user.id)
        user.set_active(False, at=user.updated_at)
        await work.users.update(user)
        await work.commit()
    with pytest.raises(Unauthorized):
        await auth.authenticate(tokens.access_token)
    with pytest.raises(Unauthorized):
        await auth.login(email=EMAIL, password=PASSWORD, ip=None, user_agent=None)


async def test_authentication_reads_the_current_role_not_the_one_in_the_token(
    auth: AuthService, uow: Uow
) -> None:
    tokens = await _signed_in(auth)
    async with uow() as work:
        user = await work.users.get(tokens.user.id)
        user.change_role(Role.AGENT, at=user.updated_at)
        await work.users.update(user)
        await work.commit()
    assert (await auth.authenticate(tokens.access_token)).role is Role.AGENT


async def test_users_list_their_own_live_sessions_newest_first(
    auth: AuthService, clock: FakeClock
) -> None:
    first = await _signed_in(auth)
    clock.advance(timedelta(minutes=1))
    second = await _login_again(auth)
    await _signed_in(auth, "someone@example.com")
    principal = await auth.authenticate(second.access_token)
    await auth.revoke_session(principal, first.session_id)
    clock.advance(timedelta(minutes=1))
    third = await _login_again(auth)

    page = await auth.list_sessions(principal, PageRequest())

    assert [s.id for s in page.items] == [third.session_id, second.session_id]
    assert page.total == 2


async def test_revoking_an_own_session_ends_it(auth: AuthService) -> None:
    first = await _signed_in(auth)
    second = await _login_again(auth)
    principal = await auth.authenticate(second.access_token)
    await auth.revoke_session(principal, first.session_id)
    with pytest.raises(Unauthorized):
        await auth.authenticate(first.access_token)
    assert await auth.authenticate(second.access_token) == principal


async def test_someone_elses_session_is_not_found_and_stays_live(auth: AuthService) -> None:
    victim = await _signed_in(auth)
    intruder = await _signed_in(auth, "eve@example.com")
    principal = await auth.authenticate(intruder.access_token)
    with pytest.raises(NotFound):
        await auth.revoke_session(principal, victim.session_id)
    await auth.authenticate(victim.access_token)


async def test_me_is_the_signed_in_user(auth: AuthService) -> None:
    tokens = await _signed_in(auth)
    me = await auth.me(await auth.authenticate(tokens.access_token))
    assert (me.id, me.email) == (tokens.user.id, EMAIL)
