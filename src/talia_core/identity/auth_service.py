"""Signing in and out: registration, logins, refresh-token rotation, sessions, and telling
who a bearer token is."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

import attrs

from talia_core.identity.account_mail import repeated_registration_mail, verification_mail
from talia_core.identity.login_throttle import LoginThrottle
from talia_core.identity.model import (
    AuditAction,
    AuditEvent,
    Principal,
    RefreshToken,
    RevocationReason,
    Role,
    Session,
    User,
    hash_refresh_token,
    successor_secret,
)
from talia_core.identity.ports import (
    AccessTokens,
    CommonPasswords,
    IdentityUnitOfWork,
    PasswordHasher,
)
from talia_core.identity.registration import add_user, new_user
from talia_core.shared.clock import Clock
from talia_core.shared.errors import Conflict, NotFound, RuleViolated, Unauthorized
from talia_core.shared.pagination import Page, PageRequest
from talia_core.shared.ports import UnitOfWorkFactory
from talia_core.shared.text import MAX_EMAIL_LENGTH


@attrs.frozen
class IssuedTokens:
    access_token: str
    expires_in: int
    """Seconds the access token stays valid."""
    refresh_token: str
    refresh_expires_at: datetime
    user: User
    session_id: str


def _refuse_credentials() -> Unauthorized:
    """The same answer for an unknown e-mail, a wrong password and an inactive account."""
    return Unauthorized("invalid e-mail or password")


def _principal(user: User, session_id: str) -> Principal:
    return Principal(
        user_id=user.id, session_id=session_id, role=user.role, email=user.email, name=user.name
    )


class AuthService:
    """Register, sign in, rotate refresh tokens, sign out, and tell who a bearer token is."""

    def __init__(
        self,
        uow: UnitOfWorkFactory[IdentityUnitOfWork],
        clock: Clock,
        *,
        hasher: PasswordHasher,
        common_passwords: CommonPasswords,
        tokens: AccessTokens,
        throttle: LoginThrottle,
        access_token_lifetime: timedelta = timedelta(minutes=15),
        refresh_token_lifetime: timedelta = timedelta(days=7),
        session_lifetime: timedelta = timedelta(days=30),
        refresh_key: bytes = b"",
        refresh_grace: timedelta = timedelta(seconds=30),
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        """``refresh_key`` keys the derivation of each refresh token's successor;
        ``refresh_grace`` is how long a spent refresh token still gives its successor (a
        client retrying a refresh whose answer it lost) before a replay revokes the family;
        ``wake`` tells the job queue that a mail job was just committed."""
        self._uow = uow
        self._clock = clock
        self._hasher = hasher
        self._common = common_passwords
        self._tokens = tokens
        self._throttle = throttle
        self._access_token_lifetime = access_token_lifetime
        self._refresh_token_lifetime = refresh_token_lifetime
        self._session_lifetime = session_lifetime
        self._refresh_key = refresh_key
        self._refresh_grace = refresh_grace
        self._decoy_hash: str | None = None
        self._wake = wake

    async def register(
        self,
        *,
        email: str,
        password: str,
        name: str,
        ip: str | None = None,
        user_agent: str | None = None,
    ) -> None:
        """The same outcome whether or not the address has an account, so registering
        tells nobody who is a customer: a new address gets its account and a verification
        link by mail; the owner of a taken one is told by mail that someone tried (with a
        link to reset the password), and nothing of the account changes. The password is
        checked and hashed either way, so both take as long."""
        now = self._clock.now()
        user = await new_user(
            self._hasher,
            self._common,
            email=email,
            name=name,
            password=password,
            role=Role.CUSTOMER,
            at=now,
        )
        try:
            async with self._uow() as uow:
                await add_user(uow, user)
                await uow.jobs.add(verification_mail(user.id, now))
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
        except Conflict:
            await self._registration_repeated(user.email, now, ip, user_agent)
        self._wake()

    async def _registration_repeated(
        self, address: str, now: datetime, ip: str | None, user_agent: str | None
    ) -> None:
        async with self._uow() as uow:
            owner = await uow.users.find_by_email(address)
            if owner is None:  # users are never deleted; kept for the type's sake
                return
            await uow.jobs.add(repeated_registration_mail(owner.id, now))
            await uow.audit_events.add(
                AuditEvent(
                    occurred_at=now,
                    actor_id=None,
                    actor_email=address,
                    action=AuditAction.REGISTRATION_REPEATED,
                    target=owner.id,
                    ip=ip,
                    user_agent=user_agent,
                )
            )
            await uow.commit()

    async def login(
        self, *, email: str, password: str, ip: str | None, user_agent: str | None
    ) -> IssuedTokens:
        """Throttled before the password is looked at; the hash work runs outside transactions."""
        address = email.strip().lower()
        if len(address) > MAX_EMAIL_LENGTH:
            raise RuleViolated(
                f"email must be at most {MAX_EMAIL_LENGTH} characters", {"email": "too long"}
            )
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

        The same token presented again within the grace window (two tabs refreshing at
        once, a retry after a lost answer) gets the same successor. Presented later, a copy
        is in someone else's hands: the whole family (the session) is revoked and that
        revocation is committed.
        """
        now = self._clock.now()
        successor = successor_secret(refresh_token, self._refresh_key)
        async with self._uow() as uow:
            try:
                token = await uow.refresh_tokens.get_by_hash(hash_refresh_token(refresh_token))
                session, user = await uow.sessions.get_with_user(token.session_id)
            except NotFound:
                raise Unauthorized("invalid refresh token") from None
            if token.spent_at is not None or not await uow.refresh_tokens.spend(token.id, at=now):
                # Spent by a refresh that committed while this one waited, if not before.
                spent_at = token.spent_at or now
                if now - spent_at <= self._refresh_grace and self._usable(session, user, now):
                    return self._tokens_for(user, session, successor, spent_at)
                await self._revoke_family(uow, token, session, user, now, ip, user_agent)
                raise Unauthorized("the refresh token was already used; the session is revoked")
            if token.is_expired(now) or not self._usable(session, user, now):
                raise Unauthorized("the refresh token has expired or its session has ended")
            session.touch(at=now, ip=ip, user_agent=user_agent)
            await uow.sessions.update(session)
            issued = await self._issue(uow, user, session, now, secret=successor)
            await uow.commit()
        return issued

    @staticmethod
    def _usable(session: Session, user: User, now: datetime) -> bool:
        return session.is_live(now) and user.active

    async def _revoke_family(
        self,
        uow: IdentityUnitOfWork,
        token: RefreshToken,
        session: Session,
        user: User,
        now: datetime,
        ip: str | None,
        user_agent: str | None,
    ) -> None:
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
        self,
        uow: IdentityUnitOfWork,
        user: User,
        session: Session,
        now: datetime,
        *,
        secret: str | None = None,
    ) -> IssuedTokens:
        refresh, secret = RefreshToken.issue(
            session, at=now, lifetime=self._refresh_token_lifetime, secret=secret
        )
        await uow.refresh_tokens.add(refresh)
        return self._tokens_for(user, session, secret, now)

    def _tokens_for(
        self, user: User, session: Session, refresh_secret: str, refreshed_at: datetime
    ) -> IssuedTokens:
        """A new access token beside the refresh token issued at ``refreshed_at``."""
        access = self._tokens.issue(
            _principal(user, session.id),
            now=self._clock.now(),
            lifetime=self._access_token_lifetime,
        )
        return IssuedTokens(
            access_token=access,
            expires_in=int(self._access_token_lifetime.total_seconds()),
            refresh_token=refresh_secret,
            refresh_expires_at=min(refreshed_at + self._refresh_token_lifetime, session.expires_at),
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
