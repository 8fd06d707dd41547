"""Lengths identity states as rules: over-long values are refused naming their field, except
a client's User-Agent, which is only recorded and is kept shortened on purpose."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from adapters.memory.unit_of_work import InMemoryUnitOfWork
from adapters.throttle.memory import InMemoryAttemptStore
from talia_core.identity.auth_service import AuthService
from talia_core.identity.model import (
    MAX_IP_LENGTH,
    MAX_TARGET_LENGTH,
    MAX_USER_AGENT_LENGTH,
    AuditEvent,
    Session,
)
from talia_core.shared.clock import FakeClock
from talia_core.shared.errors import RuleViolated
from talia_core.shared.pagination import PageRequest
from talia_core.shared.text import MAX_EMAIL_LENGTH
from tests.unit.identity.conftest import PASSWORD

LIFETIME = timedelta(days=30)


def _session(clock: FakeClock, *, ip: str | None = None, user_agent: str | None = None) -> Session:
    return Session.open(
        user_id="u-1", at=clock.now(), lifetime=LIFETIME, ip=ip, user_agent=user_agent
    )


def _event(clock: FakeClock, **fields: str) -> AuditEvent:
    return AuditEvent(
        occurred_at=clock.now(), actor_id=None, actor_email=None, action="x.y", **fields
    )


def test_an_ip_address_at_the_limit_is_kept_and_a_longer_one_is_refused(clock: FakeClock) -> None:
    assert _session(clock, ip="1" * MAX_IP_LENGTH).ip == "1" * MAX_IP_LENGTH
    for make in (_session, _event):
        with pytest.raises(RuleViolated) as refused:
            make(clock, ip="1" * (MAX_IP_LENGTH + 1))
        assert refused.value.fields == {"ip": "too long"}


def test_a_session_touched_from_an_over_long_address_is_refused(clock: FakeClock) -> None:
    session = _session(clock, ip="10.0.0.1")
    with pytest.raises(RuleViolated) as refused:
        session.touch(at=clock.now(), ip="1" * (MAX_IP_LENGTH + 1), user_agent=None)
    assert refused.value.fields == {"ip": "too long"}


def test_an_audit_target_at_the_limit_is_kept_and_a_longer_one_is_refused(
    clock: FakeClock,
) -> None:
    assert _event(clock, target="t" * MAX_TARGET_LENGTH).target == "t" * MAX_TARGET_LENGTH
    with pytest.raises(RuleViolated) as refused:
        _event(clock, target="t" * (MAX_TARGET_LENGTH + 1))
    assert refused.value.fields == {"target": "too long"}


def test_a_user_agent_is_recorded_shortened_to_its_limit_on_purpose(clock: FakeClock) -> None:
    long_agent = "Mozilla/5.0 " + "x" * MAX_USER_AGENT_LENGTH
    session = _session(clock, user_agent=long_agent)
    assert session.user_agent == long_agent[:MAX_USER_AGENT_LENGTH]
    session.touch(at=clock.now(), ip=None, user_agent=long_agent)
    assert session.user_agent == long_agent[:MAX_USER_AGENT_LENGTH]
    assert _event(clock, user_agent=long_agent).user_agent == long_agent[:MAX_USER_AGENT_LENGTH]


async def test_a_login_with_an_over_long_email_is_refused_before_it_is_counted_or_audited(
    auth: AuthService,
    attempts: InMemoryAttemptStore,
    uow: Callable[[], InMemoryUnitOfWork],
) -> None:
    address = "a" * (MAX_EMAIL_LENGTH - len("@example.com") + 1) + "@example.com"

    with pytest.raises(RuleViolated) as refused:
        await auth.login(email=address, password=PASSWORD, ip="10.0.0.7", user_agent="phone")

    assert refused.value.fields == {"email": "too long"}
    async with uow() as work:
        audit = await work.audit_events.find(PageRequest(), actor_id=None, action=None, since=None)
    assert audit.items == []
    window = await attempts.hit("login:address:10.0.0.7", window_seconds=60)
    assert window.count == 1
