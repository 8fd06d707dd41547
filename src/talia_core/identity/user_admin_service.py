"""User administration: admins list, create, change and deactivate users and read the
audit log; there is always an active admin."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

from talia_core.identity.model import (
    AuditAction,
    AuditEvent,
    Principal,
    RevocationReason,
    Role,
    User,
    ensure_admins_remain,
)
from talia_core.identity.ports import CommonPasswords, IdentityUnitOfWork, PasswordHasher
from talia_core.identity.registration import add_user, new_user
from talia_core.shared.clock import Clock
from talia_core.shared.errors import Forbidden, RuleViolated
from talia_core.shared.pagination import Page, PageRequest
from talia_core.shared.ports import UnitOfWorkFactory
from talia_core.shared.text import email_address


class UserAdminService:
    """Only admins manage users and read the audit log; there is always an active admin."""

    def __init__(
        self,
        uow: UnitOfWorkFactory[IdentityUnitOfWork],
        clock: Clock,
        *,
        hasher: PasswordHasher,
        common_passwords: CommonPasswords,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._hasher = hasher
        self._common = common_passwords

    async def list_users(
        self,
        actor: Principal,
        page: PageRequest,
        *,
        role: Role | None = None,
        text: str | None = None,
    ) -> Page[User]:
        _require_admin(actor)
        async with self._uow(read_only=True) as uow:
            return await uow.users.find(page, role=role, text=(text or "").strip() or None)

    async def get_user(self, actor: Principal, user_id: str) -> User:
        _require_admin(actor)
        async with self._uow(read_only=True) as uow:
            return await uow.users.get(user_id)

    async def create_user(
        self,
        actor: Principal,
        *,
        email: str,
        name: str,
        password: str,
        role: Role,
        ip: str | None = None,
        user_agent: str | None = None,
    ) -> User:
        _require_admin(actor)
        now = self._clock.now()
        user = await new_user(
            self._hasher, self._common, email=email, name=name, password=password, role=role, at=now
        )
        async with self._uow() as uow:
            await add_user(uow, user)
            await uow.audit_events.add(
                AuditEvent.by(
                    actor,
                    AuditAction.USER_CREATED,
                    at=now,
                    target=user.id,
                    ip=ip,
                    user_agent=user_agent,
                    details={"email": user.email, "role": user.role.value},
                )
            )
            await uow.commit()
        return user

    async def provision(self, *, email: str, name: str, password: str, role: Role) -> User:
        """A user made by the system (command line, demo seed), audited with no actor.

        ``Conflict`` if the e-mail exists.
        """
        now = self._clock.now()
        user = await new_user(
            self._hasher, self._common, email=email, name=name, password=password, role=role, at=now
        )
        return await self._add_by_system(user, now, via="system")

    async def import_user(
        self, *, email: str, name: str, password_hash: str, role: Role = Role.CUSTOMER
    ) -> User:
        """A user brought over from an older system with the password hash it kept (bcrypt):
        it signs in with its old password, which its first login re-hashes with today's
        algorithm. ``Conflict`` if the e-mail exists; ``RuleViolated`` for a hash of a
        format nothing here reads."""
        if not self._hasher.reads(password_hash):
            raise RuleViolated(
                "the password hash is of a format that cannot be verified here",
                {"password_hash": "unknown format"},
            )
        now = self._clock.now()
        user = User.register(
            email=email_address("email", email),
            name=name,
            role=role,
            password_hash=password_hash,
            at=now,
        )
        return await self._add_by_system(user, now, via="import")

    async def _add_by_system(self, user: User, now: datetime, *, via: str) -> User:
        """Store a user no one signed in made, audited with no actor and how it came."""
        async with self._uow() as uow:
            await add_user(uow, user)
            await uow.audit_events.add(
                AuditEvent(
                    occurred_at=now,
                    actor_id=None,
                    actor_email=None,
                    action=AuditAction.USER_CREATED,
                    target=user.id,
                    details={"email": user.email, "role": user.role.value, "via": via},
                )
            )
            await uow.commit()
        return user

    async def account_by_email(self, email: str) -> User | None:
        """The active account registered with ``email``, for the system answering its holder
        (an assistant's tool); ``None`` when the address is malformed, unknown or inactive."""
        try:
            address = email_address("email", email)
        except RuleViolated:
            return None
        async with self._uow(read_only=True) as uow:
            user = await uow.users.find_by_email(address)
        return user if user is not None and user.active else None

    async def update_user(
        self,
        actor: Principal,
        user_id: str,
        *,
        name: str | None = None,
        role: Role | None = None,
        active: bool | None = None,
        ip: str | None = None,
        user_agent: str | None = None,
    ) -> User:
        """Deactivating a user also revokes their sessions."""
        _require_admin(actor)
        now = self._clock.now()
        may_demote = (role is not None and role is not Role.ADMIN) or active is False
        async with self._uow() as uow:
            admin_ids = await _lock_admins(uow) if may_demote else []
            user = await uow.users.get(user_id)
            before = attrs.evolve(user)
            if name is not None and name.strip() != user.name:
                user.rename(name, at=now)
            if role is not None and role is not user.role:
                user.change_role(role, at=now)
            if active is not None and active != user.active:
                if not active and user.id == actor.user_id:
                    raise Forbidden("admins cannot deactivate their own account")
                user.set_active(active, at=now)
            if user == before:
                return user
            ensure_admins_remain(before, after=user, active_admin_ids=admin_ids)
            if before.active and not user.active:
                await uow.sessions.revoke_all(user.id, RevocationReason.USER_DEACTIVATED, at=now)
            await uow.users.update(user)
            events: list[tuple[AuditAction, dict[str, Any]]] = []
            if user.role is not before.role:
                events.append(
                    (AuditAction.ROLE_CHANGED, {"from": before.role.value, "to": user.role.value})
                )
            changes = {
                field: [getattr(before, field), getattr(user, field)]
                for field in ("name", "active")
                if getattr(before, field) != getattr(user, field)
            }
            if changes:
                events.append((AuditAction.USER_UPDATED, {"changes": changes}))
            for action, details in events:
                await uow.audit_events.add(
                    AuditEvent.by(
                        actor,
                        action,
                        at=now,
                        target=user.id,
                        ip=ip,
                        user_agent=user_agent,
                        details=details,
                    )
                )
            await uow.commit()
        return user

    async def delete_user(
        self,
        actor: Principal,
        user_id: str,
        *,
        ip: str | None = None,
        user_agent: str | None = None,
    ) -> None:
        """Deactivate the user and revoke all their sessions; the record stays for the audit."""
        _require_admin(actor)
        if user_id == actor.user_id:
            raise Forbidden("admins cannot delete their own account")
        now = self._clock.now()
        async with self._uow() as uow:
            admin_ids = await _lock_admins(uow)
            user = await uow.users.get(user_id)
            before = attrs.evolve(user)
            user.set_active(False, at=now)
            ensure_admins_remain(before, after=user, active_admin_ids=admin_ids)
            revoked = await uow.sessions.revoke_all(
                user.id, RevocationReason.USER_DEACTIVATED, at=now
            )
            await uow.users.update(user)
            await uow.audit_events.add(
                AuditEvent.by(
                    actor,
                    AuditAction.USER_DELETED,
                    at=now,
                    target=user.id,
                    ip=ip,
                    user_agent=user_agent,
                    details={"email": user.email, "sessions_revoked": revoked},
                )
            )
            await uow.commit()

    async def record_admin_write(
        self,
        principal: Principal,
        *,
        action: str,
        target: str | None,
        ip: str | None,
        user_agent: str | None,
        details: dict[str, Any] | None = None,
    ) -> None:
        """Called by the HTTP layer after any successful admin write, in its own transaction."""
        event = AuditEvent.by(
            principal,
            action,
            at=self._clock.now(),
            target=target,
            ip=ip,
            user_agent=user_agent,
            details=details,
        )
        async with self._uow() as uow:
            await uow.audit_events.add(event)
            await uow.commit()

    async def list_audit(
        self,
        actor: Principal,
        page: PageRequest,
        *,
        actor_id: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
    ) -> Page[AuditEvent]:
        _require_admin(actor)
        async with self._uow(read_only=True) as uow:
            return await uow.audit_events.find(page, actor_id=actor_id, action=action, since=since)


async def _lock_admins(uow: IdentityUnitOfWork) -> list[str]:
    """The active admins, locked before the user to change is: two demotions of two admins
    then queue on the same rows in the same order instead of deadlocking."""
    return await uow.users.active_admin_ids()


def _require_admin(actor: Principal) -> None:
    if not actor.is_admin:
        raise Forbidden("only admins manage users and read the audit log")
