"""One contract for the identity repositories: the in-memory fake and SQL on every database."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from adapters.security.common_passwords import ZxcvbnCommonPasswords
from adapters.security.passwords import FakePasswordHasher
from adapters.security.tokens import JwtAccessTokens
from adapters.throttle.memory import InMemoryAttemptStore
from talia_core.identity.auth_service import AuthService
from talia_core.identity.login_throttle import LoginThrottle
from talia_core.identity.model import (
    AuditEvent,
    RefreshToken,
    RevocationReason,
    Role,
    Session,
    User,
)
from talia_core.shared.clock import FakeClock
from talia_core.shared.errors import Conflict, NotFound, Unauthorized
from talia_core.shared.pagination import PageRequest
from tests.conftest import UowFactory

T0 = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)


def _user(email: str, role: Role = Role.CUSTOMER, *, seconds: int = 0, name: str = "Ana") -> User:
    return User.register(
        email=email,
        name=name,
        role=role,
        password_hash="fake1$x",
        at=T0 + timedelta(seconds=seconds),
    )


def _session(user: User, *, minutes: int = 0) -> Session:
    return Session.open(
        user_id=user.id,
        at=T0 + timedelta(minutes=minutes),
        lifetime=timedelta(days=30),
        ip="10.0.0.1",
        user_agent="tests",
    )


async def _stored(uow_factory: UowFactory, *entities: User | Session | RefreshToken) -> None:
    async with uow_factory() as uow:
        for entity in entities:
            if isinstance(entity, User):
                await uow.users.add(entity)
            elif isinstance(entity, Session):
                await uow.sessions.add(entity)
            else:
                await uow.refresh_tokens.add(entity)
        await uow.commit()


async def test_a_user_reads_back_equal_by_id_and_by_email(uow_factory: UowFactory) -> None:
    user = _user("ana@shop.pe", Role.AGENT)
    await _stored(uow_factory, user)
    async with uow_factory() as uow:
        assert await uow.users.get(user.id) == user
        assert await uow.users.find_by_email("ana@shop.pe") == user
        assert await uow.users.find_by_email("nobody@shop.pe") is None
        with pytest.raises(NotFound):
            await uow.users.get("missing")


async def test_two_users_cannot_share_an_email(uow_factory: UowFactory) -> None:
    await _stored(uow_factory, _user("ana@shop.pe"))
    with pytest.raises(Conflict):
        await _stored(uow_factory, _user("ana@shop.pe"))


async def test_emails_differing_only_by_accent_or_case_are_different_users(
    uow_factory: UowFactory,
) -> None:
    """MySQL's default collations would take ``josé`` and ``jose`` for one e-mail."""
    jose, accented = _user("jose@shop.pe"), _user("josé@shop.pe")
    await _stored(uow_factory, jose, accented)
    async with uow_factory() as uow:
        assert await uow.users.find_by_email("josé@shop.pe") == accented
        assert await uow.users.find_by_email("jose@shop.pe") == jose
        assert await uow.users.find_by_email("JOSE@shop.pe") is None


async def test_user_updates_are_stored(uow_factory: UowFactory) -> None:
    user = _user("ana@shop.pe")
    await _stored(uow_factory, user)
    later = T0 + timedelta(hours=1)
    user.rename("Ana María", at=later)
    user.change_role(Role.ADMIN, at=later)
    user.set_active(False, at=later)
    user.change_password_hash("fake2$y", at=later)
    async with uow_factory() as uow:
        await uow.users.update(user)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.users.get(user.id) == user


async def test_users_are_found_by_role_and_by_text_newest_first(uow_factory: UowFactory) -> None:
    users = [
        _user("maria@shop.pe", Role.AGENT, seconds=1, name="María"),
        _user("mario@shop.pe", Role.CUSTOMER, seconds=2, name="Mario"),
        _user("lucia@shop.pe", Role.AGENT, seconds=3, name="Lucía 100%"),
    ]
    await _stored(uow_factory, *users)
    async with uow_factory() as uow:
        agents = await uow.users.find(PageRequest(), role=Role.AGENT, text=None)
        by_text = await uow.users.find(PageRequest(), role=None, text="MARI")
        by_name = await uow.users.find(PageRequest(), role=None, text="0%")
        wildcard = await uow.users.find(PageRequest(), role=None, text="_")
        paged = await uow.users.find(PageRequest(limit=1, offset=1), role=None, text=None)
    assert [u.email for u in agents.items] == ["lucia@shop.pe", "maria@shop.pe"]
    assert [u.email for u in by_text.items] == ["mario@shop.pe", "maria@shop.pe"]
    assert [u.email for u in by_name.items] == ["lucia@shop.pe"]
    assert wildcard.total == 0
    assert (paged.total, [u.email for u in paged.items]) == (3, ["mario@shop.pe"])


async def test_active_admins_are_listed(uow_factory: UowFactory) -> None:
    admin, retired, agent = (
        _user("a@shop.pe", Role.ADMIN),
        _user("b@shop.pe", Role.ADMIN),
        _user("c@shop.pe", Role.AGENT),
    )
    retired.set_active(False, at=T0)
    await _stored(uow_factory, admin, retired, agent)
    async with uow_factory() as uow:
        assert await uow.users.active_admin_ids() == [admin.id]


async def test_a_session_reads_back_with_its_user_in_one_go(uow_factory: UowFactory) -> None:
    user = _user("ana@shop.pe")
    session = _session(user)
    await _stored(uow_factory, user, session)
    async with uow_factory() as uow:
        assert await uow.sessions.get_with_user(session.id) == (session, user)
        with pytest.raises(NotFound):
            await uow.sessions.get_with_user("missing")


async def test_session_updates_and_revoking_all_are_stored(uow_factory: UowFactory) -> None:
    user, other = _user("ana@shop.pe"), _user("eve@shop.pe")
    first, second, third = _session(user), _session(user, minutes=1), _session(other)
    first.touch(at=T0 + timedelta(minutes=5), ip="10.0.0.2", user_agent="laptop")
    first.revoke(RevocationReason.LOGOUT, at=T0 + timedelta(minutes=6))
    await _stored(uow_factory, user, other, _session(user), second, third)
    async with uow_factory() as uow:
        await uow.sessions.add(first)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.sessions.get(first.id) == first
        revoked = await uow.sessions.revoke_all(
            user.id, RevocationReason.USER_DEACTIVATED, at=T0 + timedelta(hours=1)
        )
        await uow.commit()
    assert revoked == 2
    async with uow_factory() as uow:
        assert (await uow.sessions.get(first.id)).revoked_reason is RevocationReason.LOGOUT
        assert (await uow.sessions.get(second.id)).revoked_reason is (
            RevocationReason.USER_DEACTIVATED
        )
        assert (await uow.sessions.get(third.id)).revoked_at is None


async def test_only_live_sessions_are_found_newest_first(uow_factory: UowFactory) -> None:
    user = _user("ana@shop.pe")
    old, revoked, live = _session(user), _session(user, minutes=1), _session(user, minutes=2)
    old.expires_at = T0 + timedelta(minutes=10)
    revoked.revoke(RevocationReason.REVOKED, at=T0)
    newest = _session(user, minutes=3)
    await _stored(uow_factory, user, old, revoked, live, newest)
    async with uow_factory() as uow:
        page = await uow.sessions.find(
            PageRequest(), user_id=user.id, live_at=T0 + timedelta(minutes=10)
        )
    assert [s.id for s in page.items] == [newest.id, live.id]


async def test_a_refresh_token_is_found_by_its_hash_and_hashes_are_unique(
    uow_factory: UowFactory,
) -> None:
    user = _user("ana@shop.pe")
    session = _session(user)
    token, _ = RefreshToken.issue(session, at=T0, lifetime=timedelta(days=7))
    await _stored(uow_factory, user, session, token)
    async with uow_factory() as uow:
        assert await uow.refresh_tokens.get_by_hash(token.token_hash) == token
        with pytest.raises(NotFound):
            await uow.refresh_tokens.get_by_hash("0" * 64)
    with pytest.raises(NotFound):  # hashes compare byte for byte, MySQL included
        async with uow_factory() as uow:
            await uow.refresh_tokens.get_by_hash(token.token_hash.upper())
    twin = RefreshToken(
        session_id=session.id, token_hash=token.token_hash, issued_at=T0, expires_at=T0
    )
    with pytest.raises(Conflict):
        await _stored(uow_factory, twin)


async def test_of_concurrent_spends_of_one_token_exactly_one_succeeds(
    uow_factory: UowFactory,
) -> None:
    user = _user("ana@shop.pe")
    session = _session(user)
    token, _ = RefreshToken.issue(session, at=T0, lifetime=timedelta(days=7))
    await _stored(uow_factory, user, session, token)

    async def spend() -> bool:
        async with uow_factory() as uow:
            spent = await uow.refresh_tokens.spend(token.id, at=T0 + timedelta(minutes=1))
            await uow.commit()
        return spent

    assert sorted(await asyncio.gather(*(spend() for _ in range(5)))) == [False] * 4 + [True]
    async with uow_factory() as uow:
        stored = await uow.refresh_tokens.get_by_hash(token.token_hash)
    assert stored.spent_at == T0 + timedelta(minutes=1)


async def test_audit_events_read_back_and_filter_newest_first(uow_factory: UowFactory) -> None:
    events = [
        AuditEvent(
            occurred_at=T0 + timedelta(minutes=n),
            actor_id=actor,
            actor_email=None if actor is None else "root@shop.pe",
            action=action,
            target="u-1",
            ip="10.0.0.1",
            user_agent="console",
            details={"n": n, "changes": {"name": ["a", "b"]}},
        )
        for n, (actor, action) in enumerate(
            [(None, "auth.login_failed"), ("a-1", "auth.login"), ("a-1", "admin.write")]
        )
    ]
    async with uow_factory() as uow:
        for event in events:
            await uow.audit_events.add(event)
        await uow.commit()
    async with uow_factory() as uow:
        every = await uow.audit_events.find(PageRequest(), actor_id=None, action=None, since=None)
        by_actor = await uow.audit_events.find(
            PageRequest(), actor_id="a-1", action=None, since=None
        )
        by_action = await uow.audit_events.find(
            PageRequest(), actor_id=None, action="auth.login", since=None
        )
        recent = await uow.audit_events.find(
            PageRequest(), actor_id=None, action=None, since=T0 + timedelta(minutes=2)
        )
    assert list(every.items) == events[::-1]
    assert [e.action for e in by_actor.items] == ["admin.write", "auth.login"]
    assert [e.id for e in by_action.items] == [events[1].id]
    assert [e.id for e in recent.items] == [events[2].id]


async def test_concurrent_refreshes_share_a_successor_and_a_late_replay_revokes_the_family(
    uow_factory: UowFactory,
) -> None:
    clock = FakeClock(T0)
    auth = AuthService(
        uow_factory,
        clock,
        hasher=FakePasswordHasher(),
        common_passwords=ZxcvbnCommonPasswords(),
        tokens=JwtAccessTokens("s" * 32, issuer="talia-test"),
        throttle=LoginThrottle(InMemoryAttemptStore(clock)),
    )
    await auth.register(email="ana@shop.pe", password="correct horse 42", name="Ana")
    first = await auth.login(
        email="ana@shop.pe", password="correct horse 42", ip=None, user_agent=None
    )
    results = await asyncio.gather(
        *(auth.refresh(first.refresh_token, ip=None, user_agent=None) for _ in range(3))
    )
    assert len({r.refresh_token for r in results}) == 1
    await auth.authenticate(results[0].access_token)
    clock.advance(timedelta(seconds=31))
    with pytest.raises(Unauthorized):
        await auth.refresh(first.refresh_token, ip=None, user_agent=None)
    with pytest.raises(Unauthorized):
        await auth.authenticate(results[0].access_token)
