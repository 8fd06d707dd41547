"""Identity use cases: signing in and out, sessions, login throttling, user administration."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

import attrs

from talia_core.identity.model import (
    AuditAction,
    AuditEvent,
    Principal,
    RefreshToken,
    RevocationReason,
    Role,
    Session,
    User,
    check_password,
    ensure_admins_remain,
    hash_refresh_token,
)
from talia_core.identity.ports import (
    AccessTokens,
    AttemptStore,
    IdentityUnitOfWork,
    PasswordHasher,
)
from talia_core.shared.clock import Clock
from talia_core.shared.errors import Conflict, Forbidden, NotFound, RateLimited, Unauthorized
from talia_core.shared.pagination import Page, PageRequest
from talia_core.shared.ports import UnitOfWorkFactory
from talia_core.shared.text import email_address


@attrs.frozen
class IssuedTokens:
    access_token: str
    expires_in: int
    """Seconds the access token stays valid."""
    refresh_token: str
    refresh_expires_at: datetime
    user: User
    session_id: str


class LoginThrottle:
    """Login attempts counted per account and per client address in fixed windows.

    Every attempt is counted before the password is looked at, in one atomic step of the
    store, and refused once its count passes the limit: a burst of concurrent guesses
    cannot all slip in before the first of them fails. A success clears the account's
    count (its owner is back) and takes its own attempt back from the address's count, so
    the address counts failures (plus attempts still running): successes from a shared
    address never lock it, and a known password cannot wipe the failures counted there.
    """

    def __init__(
        self,
        store: AttemptStore,
        *,
        account_failures: int = 5,
        address_failures: int = 20,
        window: timedelta = timedelta(minutes=15),
    ) -> None:
        self._store = store
        self._account_failures = account_failures
        self._address_failures = address_failures
        self._window_seconds = int(window.total_seconds())

    @staticmethod
    def _account_key(email: str) -> str:
        # Hashed so the shared store holds no e-mail addresses.
        return "login:account:" + hashlib.sha256(email.encode()).hexdigest()

    @staticmethod
    def _address_key(ip: str) -> str:
        return "login:address:" + ip

    async def attempt(self, *, email: str, ip: str | None) -> None:
        """Count an attempt; raise ``RateLimited`` if the account or the address is past
        its limit of failures. A refused attempt counts too, without extending the window."""
        limits = [(self._account_key(email), self._account_failures)]
        if ip:
            limits.append((self._address_key(ip), self._address_failures))
        waits = []
        for key, limit in limits:
            window = await self._store.hit(key, window_seconds=self._window_seconds)
            if window.count > limit:
                waits.append(window.resets_in_seconds)
        if waits:
            raise RateLimited("too many failed logins; try again later", max(waits))

    async def succeeded(self, *, email: str, ip: str | None) -> None:
        await self._store.clear(self._account_key(email))
        if ip:
            await self._store.take_back(self._address_key(ip))


def _refuse_credentials() -> Unauthorized:
    """The same answer for an unknown e-mail, a wrong password and an inactive account."""
    return Unauthorized("invalid e-mail or password")


def _principal(user: User, session_id: str) -> Principal:
    return Principal(
        user_id=user.id, session_id=session_id, role=user.role, email=user.email, name=user.name
    )


async def _new_user(
    hasher: PasswordHasher, *, email: str, name: str, password: str, role: Role, at: datetime
) -> User:
    address = email_address("email", email)
    check_password(password, email=address)
    return User.register(
        email=address, name=name, role=role, password_hash=await hasher.hash(password), at=at
    )


async def _add_user(uow: IdentityUnitOfWork, user: User) -> None:
    if await uow.users.find_by_email(user.email) is not None:
        raise Conflict(f"a user with the e-mail {user.email} already exists")
    await uow.users.add(user)


class AuthService:
    """Register, sign in, rotate refresh tokens, sign out, and tell who a bearer token is."""

    def __init__(
        self,
        uow: UnitOfWorkFactory[IdentityUnitOfWork],
        clock: Clock,
        *,
        hasher: PasswordHasher,
        tokens: AccessTokens,
        throttle: LoginThrottle,
        access_token_lifetime: timedelta = timedelta(minutes=15),
        refresh_token_lifetime: timedelta = timedelta(days=7),
        session_lifetime: timedelta = timedelta(days=30),
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._hasher = hasher
        self._tokens = tokens
        self._throttle = throttle
        self._access_token_lifetime = access_token_lifetime
        self._refresh_token_lifetime = refresh_token_lifetime
        self._session_lifetime = session_lifetime
        self._decoy_hash: str | None = None

    async def register(
        self,
        *,
        email: str,
        password: str,
        name: str,
        ip: str | None = None,
        user_agent: str | None = None,
    ) -> User:
        now = self._clock.now()
        user = await _new_user(
            self._hasher, email=email, name=name, password=password, role=Role.CUSTOMER, at=now
        )
        async with self._uow() as uow:
            await _add_user(uow, user)
            await uow.audit_events.add(
                AuditEvent(
                    occurred_at=now,
                    actor_id=user.id,
                    actor_email=user.email,
                    action=AuditAction.REGISTERED,
                    target=user.id,
                    ip=ip,
                    user_agent=user_agent,
                )
            )
            await uow.commit()
        return user

    async def login(
        self, *, email: str, password: str, ip: str | None, user_agent: str | None
    ) -> IssuedTokens:
        """Throttled before the password is looked at; the hash work runs outside transactions."""
        address = email.strip().lower()[:254]
        await self._throttle.attempt(email=address, ip=ip)
        async with self._uow(read_only=True) as uow:
            found = await uow.users.find_by_email(address)
        if found is None:
            await self._hasher.verify(await self._decoy(), password)  # same time as a real check
            raise await self._login_failed(None, address, "unknown e-mail", ip, user_agent)
        if not await self._hasher.verify(found.password_hash, password):
            raise await self._login_failed(found, address, "wrong password", ip, user_agent)
        if not found.active:
            raise await self._login_failed(found, address, "inactive account", ip, user_agent)
        new_hash = (
            await self._hasher.hash(password)
            if self._hasher.needs_rehash(found.password_hash)
            else None
        )
        now = self._clock.now()
        async with self._uow() as uow:
            user = await uow.users.get(found.id)
            if not user.active:
                raise _refuse_credentials()
            if new_hash is not None:
                user.change_password_hash(new_hash, at=now)
                await uow.users.update(user)
            session = Session.open(
                user_id=user.id,
                at=now,
                lifetime=self._session_lifetime,
                ip=ip,
                user_agent=user_agent,
            )
            await uow.sessions.add(session)
            issued = await self._issue(uow, user, session, now)
            await uow.audit_events.add(
                AuditEvent.by(
                    _principal(user, session.id),
                    AuditAction.LOGIN,
                    at=now,
                    target=session.id,
                    ip=ip,
                    user_agent=user_agent,
                )
            )
            await uow.commit()
        await self._throttle.succeeded(email=address, ip=ip)
        return issued

    async def refresh(
        self, refresh_token: str, *, ip: str | None, user_agent: str | None
    ) -> IssuedTokens:
        """Rotate: spend the presented token and issue the next of its family.

        A token presented after it was spent means a copy is in someone else's hands: the
        whole family (the session) is revoked and that revocation is committed.
        """
        now = self._clock.now()
        async with self._uow() as uow:
            try:
                token = await uow.refresh_tokens.get_by_hash(hash_refresh_token(refresh_token))
                session, user = await uow.sessions.get_with_user(token.session_id)
            except NotFound:
                raise Unauthorized("invalid refresh token") from None
            if token.spent_at is not None or not await uow.refresh_tokens.spend(token.id, at=now):
                session.revoke(RevocationReason.REFRESH_TOKEN_REUSED, at=now)
                await uow.sessions.update(session)
                await uow.audit_events.add(
                    AuditEvent.by(
                        _principal(user, session.id),
                        AuditAction.REFRESH_TOKEN_REUSED,
                        at=now,
                        target=session.id,
                        ip=ip,
                        user_agent=user_agent,
                        details={"refresh_token_id": token.id},
                    )
                )
                await uow.commit()
                raise Unauthorized("the refresh token was already used; the session is revoked")
            if token.is_expired(now) or not session.is_live(now) or not user.active:
                raise Unauthorized("the refresh token has expired or its session has ended")
            session.touch(at=now, ip=ip, user_agent=user_agent)
            await uow.sessions.update(session)
            issued = await self._issue(uow, user, session, now)
            await uow.commit()
        return issued

    async def logout(
        self, principal: Principal, *, ip: str | None = None, user_agent: str | None = None
    ) -> None:
        await self._revoke(principal, principal.session_id, RevocationReason.LOGOUT, ip, user_agent)

    async def authenticate(self, access_token: str) -> Principal:
        """Who holds this token, if its session is still live and its user still active."""
        now = self._clock.now()
        claims = self._tokens.read(access_token, now=now)
        async with self._uow(read_only=True) as uow:
            try:
                session, user = await uow.sessions.get_with_user(claims.session_id)
            except NotFound:
                raise Unauthorized("the session has ended") from None
        if session.user_id != claims.user_id or not session.is_live(now) or not user.active:
            raise Unauthorized("the session has ended")
        return _principal(user, session.id)

    async def me(self, principal: Principal) -> User:
        async with self._uow(read_only=True) as uow:
            return await uow.users.get(principal.user_id)

    async def list_sessions(self, principal: Principal, page: PageRequest) -> Page[Session]:
        """The caller's live sessions, newest first."""
        async with self._uow(read_only=True) as uow:
            return await uow.sessions.find(
                page, user_id=principal.user_id, live_at=self._clock.now()
            )

    async def revoke_session(
        self,
        principal: Principal,
        session_id: str,
        *,
        ip: str | None = None,
        user_agent: str | None = None,
    ) -> None:
        """Someone else's session is reported as missing, not as forbidden."""
        await self._revoke(principal, session_id, RevocationReason.REVOKED, ip, user_agent)

    async def _revoke(
        self,
        principal: Principal,
        session_id: str,
        reason: RevocationReason,
        ip: str | None,
        user_agent: str | None,
    ) -> None:
        now = self._clock.now()
        async with self._uow() as uow:
            session = await uow.sessions.get(session_id)
            if session.user_id != principal.user_id:
                raise NotFound("session", session_id)
            session.revoke(reason, at=now)
            await uow.sessions.update(session)
            action = (
                AuditAction.LOGOUT
                if reason is RevocationReason.LOGOUT
                else AuditAction.SESSION_REVOKED
            )
            await uow.audit_events.add(
                AuditEvent.by(
                    principal, action, at=now, target=session_id, ip=ip, user_agent=user_agent
                )
            )
            await uow.commit()

    async def _issue(
        self, uow: IdentityUnitOfWork, user: User, session: Session, now: datetime
    ) -> IssuedTokens:
        refresh, secret = RefreshToken.issue(session, at=now, lifetime=self._refresh_token_lifetime)
        await uow.refresh_tokens.add(refresh)
        access = self._tokens.issue(
            _principal(user, session.id), now=now, lifetime=self._access_token_lifetime
        )
        return IssuedTokens(
            access_token=access,
            expires_in=int(self._access_token_lifetime.total_seconds()),
            refresh_token=secret,
            refresh_expires_at=refresh.expires_at,
            user=user,
            session_id=session.id,
        )

    async def _login_failed(
        self,
        user: User | None,
        address: str,
        reason: str,
        ip: str | None,
        user_agent: str | None,
    ) -> Unauthorized:
        """Record the failure (committed; the throttle counted it already); return the error."""
        async with self._uow() as uow:
            await uow.audit_events.add(
                AuditEvent(
                    occurred_at=self._clock.now(),
                    actor_id=user.id if user else None,
                    actor_email=address,
                    action=AuditAction.LOGIN_FAILED,
                    ip=ip,
                    user_agent=user_agent,
                    details={"reason": reason},
                )
            )
            await uow.commit()
        return _refuse_credentials()

    async def _decoy(self) -> str:
        if self._decoy_hash is None:
            self._decoy_hash = await self._hasher.hash(secrets.token_urlsafe(16))
        return self._decoy_hash


class UserAdminService:
    """Only admins manage users and read the audit log; there is always an active admin."""

    def __init__(
        self, uow: UnitOfWorkFactory[IdentityUnitOfWork], clock: Clock, *, hasher: PasswordHasher
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._hasher = hasher

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
        user = await _new_user(
            self._hasher, email=email, name=name, password=password, role=role, at=now
        )
        async with self._uow() as uow:
            await _add_user(uow, user)
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
        user = await _new_user(
            self._hasher, email=email, name=name, password=password, role=role, at=now
        )
        async with self._uow() as uow:
            await _add_user(uow, user)
            await uow.audit_events.add(
                AuditEvent(
                    occurred_at=now,
                    actor_id=None,
                    actor_email=None,
                    action=AuditAction.USER_CREATED,
                    target=user.id,
                    details={"email": user.email, "role": user.role.value, "via": "system"},
                )
            )
            await uow.commit()
        return user

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
