from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from adapters.memory.unit_of_work import InMemoryUnitOfWork
from talia_core.identity.auth_service import AuthService
from talia_core.identity.model import AuditAction, Principal, RevocationReason, Role, User
from talia_core.identity.user_admin_service import UserAdminService
from talia_core.shared.clock import FakeClock
from talia_core.shared.errors import Conflict, Forbidden, NotFound, Unauthorized
from talia_core.shared.pagination import PageRequest
from tests.unit.identity.conftest import PASSWORD

Uow = Callable[[], InMemoryUnitOfWork]


async def _create(
    admin_service: UserAdminService, admin: Principal, email: str, role: Role = Role.CUSTOMER
) -> User:
    return await admin_service.create_user(
        admin, email=email, name=email.split("@")[0].title(), password=PASSWORD, role=role
    )


async def _principal(auth: AuthService, email: str) -> Principal:
    tokens = await auth.login(email=email, password=PASSWORD, ip=None, user_agent=None)
    return await auth.authenticate(tokens.access_token)


async def test_provisioning_refuses_an_existing_email(admin_service: UserAdminService) -> None:
    await admin_service.provision(
        email="root@talia.test", name="Root", password=PASSWORD, role=Role.ADMIN
    )
    with pytest.raises(Conflict, match=r"root@talia\.test"):
        await admin_service.provision(
            email="Root@talia.test", name="Root", password=PASSWORD, role=Role.AGENT
        )


async def test_the_system_provisions_users_of_any_role_audited_without_an_actor(
    admin_service: UserAdminService, admin: Principal
) -> None:
    agent = await admin_service.provision(
        email="agent@talia.test", name="Agent", password=PASSWORD, role=Role.AGENT
    )

    assert (await admin_service.get_user(admin, agent.id)).role is Role.AGENT
    audit = await admin_service.list_audit(admin, PageRequest(), action=AuditAction.USER_CREATED)
    [created] = [e for e in audit.items if e.target == agent.id]
    assert (created.actor_id, created.actor_email) == (None, None)
    assert created.details == {"email": "agent@talia.test", "role": "agent", "via": "system"}


async def test_the_system_finds_an_active_account_by_its_email_in_any_case(
    admin_service: UserAdminService, admin: Principal
) -> None:
    user = await _create(admin_service, admin, "ana@shop.pe")

    found = await admin_service.account_by_email(" Ana@Shop.PE ")

    assert found is not None
    assert found.id == user.id
    assert await admin_service.account_by_email("luis@shop.pe") is None
    assert await admin_service.account_by_email("not an address") is None
    await admin_service.update_user(admin, user.id, active=False)
    assert await admin_service.account_by_email("ana@shop.pe") is None


async def test_admins_create_users_with_a_role_and_it_is_audited(
    admin_service: UserAdminService, admin: Principal
) -> None:
    agent = await _create(admin_service, admin, "agent@talia.test", Role.AGENT)
    assert (await admin_service.get_user(admin, agent.id)).role is Role.AGENT
    audit = await admin_service.list_audit(admin, PageRequest(), action=AuditAction.USER_CREATED)
    [created] = [e for e in audit.items if e.target == agent.id]
    assert created.actor_id == admin.user_id


async def test_non_admins_may_not_manage_users_or_read_the_audit(
    admin_service: UserAdminService, admin: Principal, auth: AuthService
) -> None:
    await _create(admin_service, admin, "agent@talia.test", Role.AGENT)
    agent = await _principal(auth, "agent@talia.test")
    with pytest.raises(Forbidden):
        await admin_service.list_users(agent, PageRequest())
    with pytest.raises(Forbidden):
        await _create(admin_service, agent, "x@talia.test")
    with pytest.raises(Forbidden):
        await admin_service.update_user(agent, agent.user_id, role=Role.ADMIN)
    with pytest.raises(Forbidden):
        await admin_service.list_audit(agent, PageRequest())


async def test_listing_users_filters_by_role_and_text(
    admin_service: UserAdminService, admin: Principal, clock: FakeClock
) -> None:
    for email, role in [
        ("maria@shop.pe", Role.AGENT),
        ("mario@shop.pe", Role.CUSTOMER),
        ("lucia@shop.pe", Role.AGENT),
    ]:
        clock.advance(timedelta(seconds=1))
        await _create(admin_service, admin, email, role)

    agents = await admin_service.list_users(admin, PageRequest(), role=Role.AGENT)
    assert [u.email for u in agents.items] == ["lucia@shop.pe", "maria@shop.pe"]
    by_text = await admin_service.list_users(admin, PageRequest(), text=" MARI ")
    assert {u.email for u in by_text.items} == {"maria@shop.pe", "mario@shop.pe"}
    second_page = await admin_service.list_users(admin, PageRequest(limit=2, offset=2))
    assert (second_page.total, len(second_page.items)) == (4, 2)


async def test_changing_a_role_is_audited_with_before_and_after(
    admin_service: UserAdminService, admin: Principal
) -> None:
    user = await _create(admin_service, admin, "ana@shop.pe")
    updated = await admin_service.update_user(
        admin, user.id, role=Role.AGENT, name="Ana Pérez", ip="10.0.0.1"
    )
    assert (updated.role, updated.name) == (Role.AGENT, "Ana Pérez")
    [changed] = (
        await admin_service.list_audit(admin, PageRequest(), action=AuditAction.ROLE_CHANGED)
    ).items
    assert changed.details == {"from": "customer", "to": "agent"}
    assert (changed.target, changed.ip) == (user.id, "10.0.0.1")
    [edited] = (
        await admin_service.list_audit(admin, PageRequest(), action=AuditAction.USER_UPDATED)
    ).items
    assert edited.details == {"changes": {"name": ["Ana", "Ana Pérez"]}}


async def test_an_update_that_changes_nothing_records_nothing(
    admin_service: UserAdminService, admin: Principal
) -> None:
    user = await _create(admin_service, admin, "ana@shop.pe")
    await admin_service.update_user(admin, user.id, name="Ana", role=Role.CUSTOMER, active=True)
    audit = await admin_service.list_audit(admin, PageRequest(), actor_id=admin.user_id)
    assert AuditAction.USER_UPDATED not in [e.action for e in audit.items]


async def test_deactivating_a_user_revokes_their_sessions(
    admin_service: UserAdminService, admin: Principal, auth: AuthService
) -> None:
    user = await _create(admin_service, admin, "ana@shop.pe")
    tokens = await auth.login(email=user.email, password=PASSWORD, ip=None, user_agent=None)
    await admin_service.update_user(admin, user.id, active=False)
    with pytest.raises(Unauthorized):
        await auth.authenticate(tokens.access_token)
    with pytest.raises(Unauthorized):
        await auth.refresh(tokens.refresh_token, ip=None, user_agent=None)


async def test_deleting_a_user_deactivates_them_and_revokes_every_session(
    admin_service: UserAdminService, admin: Principal, auth: AuthService, uow: Uow
) -> None:
    user = await _create(admin_service, admin, "ana@shop.pe")
    sessions = [
        await auth.login(email=user.email, password=PASSWORD, ip=None, user_agent=None)
        for _ in range(2)
    ]
    await admin_service.delete_user(admin, user.id, ip="10.0.0.1")

    assert not (await admin_service.get_user(admin, user.id)).active
    async with uow() as work:
        for tokens in sessions:
            session = await work.sessions.get(tokens.session_id)
            assert session.revoked_reason is RevocationReason.USER_DEACTIVATED
    [deleted] = (
        await admin_service.list_audit(admin, PageRequest(), action=AuditAction.USER_DELETED)
    ).items
    assert deleted.details == {"email": "ana@shop.pe", "sessions_revoked": 2}


async def test_an_admin_cannot_delete_or_deactivate_themself(
    admin_service: UserAdminService, admin: Principal
) -> None:
    with pytest.raises(Forbidden):
        await admin_service.delete_user(admin, admin.user_id)
    with pytest.raises(Forbidden):
        await admin_service.update_user(admin, admin.user_id, active=False)
    assert (await admin_service.get_user(admin, admin.user_id)).active


async def test_the_last_active_admin_cannot_be_demoted(
    admin_service: UserAdminService, admin: Principal
) -> None:
    with pytest.raises(Conflict, match="last active admin"):
        await admin_service.update_user(admin, admin.user_id, role=Role.AGENT)
    assert (await admin_service.get_user(admin, admin.user_id)).role is Role.ADMIN


async def test_an_admin_may_step_down_when_another_admin_remains(
    admin_service: UserAdminService, admin: Principal
) -> None:
    await _create(admin_service, admin, "second@talia.test", Role.ADMIN)
    demoted = await admin_service.update_user(admin, admin.user_id, role=Role.AGENT)
    assert demoted.role is Role.AGENT


async def test_the_last_active_admin_cannot_step_down_after_the_others_left(
    admin_service: UserAdminService, admin: Principal, auth: AuthService
) -> None:
    second = await _create(admin_service, admin, "second@talia.test", Role.ADMIN)
    await admin_service.delete_user(admin, second.id)
    other = await _create(admin_service, admin, "third@talia.test", Role.ADMIN)
    third = await _principal(auth, other.email)
    await admin_service.update_user(third, admin.user_id, active=False)
    with pytest.raises(Conflict, match="last active admin"):
        await admin_service.update_user(third, third.user_id, role=Role.CUSTOMER)


async def test_getting_a_missing_user_is_not_found(
    admin_service: UserAdminService, admin: Principal
) -> None:
    with pytest.raises(NotFound):
        await admin_service.get_user(admin, "0190a0a0-0000-7000-8000-000000000000")


async def test_admin_writes_elsewhere_are_recorded_and_filterable(
    admin_service: UserAdminService, admin: Principal, clock: FakeClock
) -> None:
    since = clock.now() + timedelta(seconds=1)
    clock.advance(timedelta(seconds=5))
    await admin_service.record_admin_write(
        admin,
        action=AuditAction.ADMIN_WRITE,
        target="plans/gold",
        ip="10.0.0.1",
        user_agent="console",
        details={"method": "PATCH", "path": "/api/admin/plans/gold"},
    )
    page = await admin_service.list_audit(
        admin, PageRequest(), actor_id=admin.user_id, action=AuditAction.ADMIN_WRITE, since=since
    )
    [write] = page.items
    assert (write.target, write.actor_email, write.details["method"]) == (
        "plans/gold",
        "root@talia.test",
        "PATCH",
    )
    older = await admin_service.list_audit(admin, PageRequest(), since=since)
    assert [e.action for e in older.items] == [AuditAction.ADMIN_WRITE]
