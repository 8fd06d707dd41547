"""Links mailed to an account's address, followed: verifying the address, and getting back
in with a new password."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from talia_core.identity.account_mail import (
    RESET_REQUESTED_JOB,
    reset_mail,
    reset_request,
    verification_mail,
)
from talia_core.identity.email_tokens import MAX_TOKEN_LENGTH, TokenPurpose, hash_token
from talia_core.identity.model import AuditAction, AuditEvent, Principal, RevocationReason, User
from talia_core.identity.ports import CommonPasswords, IdentityUnitOfWork, PasswordHasher
from talia_core.identity.registration import check_new_password
from talia_core.shared.clock import Clock
from talia_core.shared.errors import RuleViolated
from talia_core.shared.jobs import JobHandler
from talia_core.shared.ports import UnitOfWorkFactory
from talia_core.shared.text import email_address


def _invalid_token() -> RuleViolated:
    """One answer for a token never issued, used, expired, or of an inactive account."""
    return RuleViolated("the link is invalid, used or expired", {"token": "invalid"})


def _readable(token: str) -> str:
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise _invalid_token()
    return hash_token(token)


class AccountRecovery:
    """Verify an address, ask for a password reset, reset the password."""

    def __init__(
        self,
        uow: UnitOfWorkFactory[IdentityUnitOfWork],
        clock: Clock,
        *,
        hasher: PasswordHasher,
        common_passwords: CommonPasswords,
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._hasher = hasher
        self._common = common_passwords
        self._wake = wake

    async def verify_email(
        self, token: str, *, ip: str | None = None, user_agent: str | None = None
    ) -> User:
        token_hash = _readable(token)
        now = self._clock.now()
        async with self._uow() as uow:
            user_id = await uow.email_tokens.redeem(token_hash, TokenPurpose.VERIFY_EMAIL, at=now)
            if user_id is None:
                raise _invalid_token()
            user = await uow.users.get(user_id)
            user.verify_email(at=now)
            await uow.users.update(user)
            await uow.audit_events.add(_by(user, AuditAction.EMAIL_VERIFIED, now, ip, user_agent))
            await uow.commit()
        return user

    async def resend_verification(self, principal: Principal) -> None:
        """A new link to an address not yet verified (at most one a minute); nothing once
        it is."""
        now = self._clock.now()
        async with self._uow() as uow:
            user = await uow.users.get(principal.user_id)
            if user.email_verified:
                return
            await uow.jobs.add(verification_mail(user.id, now))
            await uow.commit()
        self._wake()

    def job_handlers(self) -> dict[str, JobHandler]:
        async def reset_requested(payload: Mapping[str, Any]) -> None:
            await self._reset_requested(
                str(payload["email"]),
                datetime.fromisoformat(str(payload["requested_at"])),
                payload.get("ip"),
                payload.get("user_agent"),
            )

        return {RESET_REQUESTED_JOB: reset_requested}

    async def forgot_password(
        self, email: str, *, ip: str | None = None, user_agent: str | None = None
    ) -> None:
        """Mail a reset link when an active account has the address; the caller is told
        the same either way, and the request does the same work either way (it records a
        job that looks the address up), so its time tells nothing either. Asking again for
        an address within the minute adds nothing."""
        address = email_address("email", email)
        now = self._clock.now()
        async with self._uow() as uow:
            await uow.jobs.add(reset_request(address, now, ip=ip, user_agent=user_agent))
            await uow.commit()
        self._wake()

    async def _reset_requested(
        self, address: str, at: datetime, ip: str | None, user_agent: str | None
    ) -> None:
        async with self._uow() as uow:
            user = await uow.users.find_by_email(address)
            if user is None or not user.active:
                return
            await uow.jobs.add(reset_mail(user.id, at))
            await uow.audit_events.add(
                _by(user, AuditAction.PASSWORD_RESET_REQUESTED, at, ip, user_agent)
            )
            await uow.commit()
        self._wake()

    async def reset_password(
        self,
        token: str,
        password: str,
        *,
        ip: str | None = None,
        user_agent: str | None = None,
    ) -> None:
        """Set the new password and end every session of the account.

        The password is checked before the token is spent, so a refused password leaves the
        link working; the token is spent by one conditional update, so it works once. Every
        other reset link of the account dies with it; the address counts as verified, since
        the link reached it.
        """
        token_hash = _readable(token)
        async with self._uow(read_only=True) as uow:
            holder = await uow.email_tokens.owner(
                token_hash, TokenPurpose.RESET_PASSWORD, at=self._clock.now()
            )
            user = None if holder is None else await uow.users.get(holder)
        if user is None or not user.active:
            raise _invalid_token()
        check_new_password(self._common, password, email=user.email)
        new_hash = await self._hasher.hash(password)
        now = self._clock.now()
        async with self._uow() as uow:
            spent = await uow.email_tokens.redeem(token_hash, TokenPurpose.RESET_PASSWORD, at=now)
            user = await uow.users.get(user.id)
            if spent != user.id or not user.active:
                raise _invalid_token()
            user.change_password_hash(new_hash, at=now)
            user.verify_email(at=now)
            await uow.users.update(user)
            await uow.email_tokens.use_all(user.id, TokenPurpose.RESET_PASSWORD, at=now)
            ended = await uow.sessions.revoke_all(user.id, RevocationReason.PASSWORD_RESET, at=now)
            await uow.audit_events.add(
                _by(user, AuditAction.PASSWORD_RESET, now, ip, user_agent, {"sessions": ended})
            )
            await uow.commit()


def _by(
    user: User,
    action: AuditAction,
    at: datetime,
    ip: str | None,
    user_agent: str | None,
    details: dict[str, object] | None = None,
) -> AuditEvent:
    return AuditEvent(
        occurred_at=at,
        actor_id=user.id,
        actor_email=user.email,
        action=action,
        target=user.id,
        ip=ip,
        user_agent=user_agent,
        details=details or {},
    )
