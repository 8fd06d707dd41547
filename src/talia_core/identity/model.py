"""Users, roles, who is calling, sessions (refresh-token families) and the audit trail."""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Any

import attrs

from talia_core.shared.errors import Conflict, RuleViolated
from talia_core.shared.ids import new_id
from talia_core.shared.text import email_address, required_text

PASSWORD_MIN_LENGTH = 10
PASSWORD_MAX_LENGTH = 128
# A local part this short ("al@...") would forbid most passwords, so it is not checked.
_LOCAL_PART_CHECKED_FROM = 3


class Role(enum.StrEnum):
    ADMIN = "admin"
    AGENT = "agent"
    CUSTOMER = "customer"


@attrs.frozen
class Principal:
    """The authenticated caller of a request, as its access token and live session say."""

    user_id: str
    session_id: str
    role: Role
    email: str
    name: str

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


def check_password(password: str, *, email: str) -> None:
    """Refuse a password that breaks the policy, naming the field ``password``."""

    def refuse(detail: str, reason: str) -> RuleViolated:
        return RuleViolated(detail, {"password": reason})

    if len(password) < PASSWORD_MIN_LENGTH:
        raise refuse(f"password must be at least {PASSWORD_MIN_LENGTH} characters", "too short")
    if len(password) > PASSWORD_MAX_LENGTH:
        raise refuse(f"password must be at most {PASSWORD_MAX_LENGTH} characters", "too long")
    if not any(c.isalpha() for c in password) or not any(c.isdigit() for c in password):
        raise refuse("password must contain at least one letter and one digit", "too weak")
    local_part = email.partition("@")[0].casefold()
    if len(local_part) >= _LOCAL_PART_CHECKED_FROM and local_part in password.casefold():
        raise refuse("password must not contain the e-mail address", "contains e-mail")


MAX_NAME_LENGTH = 120
"""A user's name is at most 120 characters."""
MAX_IP_LENGTH = 45
"""A client's IP address is at most 45 characters, the longest text form of an address."""
MAX_USER_AGENT_LENGTH = 512
"""A client's User-Agent is at most 512 characters as recorded."""
MAX_TARGET_LENGTH = 200
"""An audit event names what it acted on in at most 200 characters."""


def _at_most(field: str, value: str | None, max_length: int) -> str | None:
    if value and len(value) > max_length:
        raise RuleViolated(f"{field} must be at most {max_length} characters", {field: "too long"})
    return value or None


def _ip(value: str | None) -> str | None:
    return _at_most("ip", value, MAX_IP_LENGTH)


def _user_agent(value: str | None) -> str | None:
    """A client's User-Agent is kept for the record only, never read back as data: it is
    shortened to ``MAX_USER_AGENT_LENGTH`` on purpose rather than refused."""
    return value[:MAX_USER_AGENT_LENGTH] if value else None


def _target(value: str | None) -> str | None:
    return _at_most("target", value, MAX_TARGET_LENGTH)


def _action(value: str) -> str:
    return required_text("action", value, 64)


@attrs.define
class User:
    email: str
    name: str
    role: Role
    password_hash: str
    created_at: datetime
    updated_at: datetime
    active: bool = True
    email_verified_at: datetime | None = None
    """When the owner of the address followed a link mailed to it; unverified accounts may
    do everything verified ones may, and show it."""
    id: str = attrs.field(factory=new_id)

    @classmethod
    def register(
        cls, *, email: str, name: str, role: Role, password_hash: str, at: datetime
    ) -> User:
        return cls(
            email=email_address("email", email),
            name=required_text("name", name, MAX_NAME_LENGTH),
            role=role,
            password_hash=password_hash,
            created_at=at,
            updated_at=at,
        )

    @property
    def is_active_admin(self) -> bool:
        return self.active and self.role is Role.ADMIN

    def rename(self, name: str, *, at: datetime) -> None:
        self.name = required_text("name", name, MAX_NAME_LENGTH)
        self.updated_at = at

    def change_role(self, role: Role, *, at: datetime) -> None:
        self.role = role
        self.updated_at = at

    def set_active(self, active: bool, *, at: datetime) -> None:
        self.active = active
        self.updated_at = at

    def change_password_hash(self, password_hash: str, *, at: datetime) -> None:
        self.password_hash = password_hash
        self.updated_at = at

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    def verify_email(self, *, at: datetime) -> None:
        """Verifying again keeps the first time."""
        if self.email_verified_at is None:
            self.email_verified_at = at
            self.updated_at = at


def ensure_admins_remain(user: User, *, after: User, active_admin_ids: list[str]) -> None:
    """Refuse a change that would leave no active admin; ``after`` is the user once changed."""
    if user.is_active_admin and not after.is_active_admin and active_admin_ids == [user.id]:
        raise Conflict("the last active admin cannot be removed or demoted")


class RevocationReason(enum.StrEnum):
    LOGOUT = "logout"
    REVOKED = "revoked"
    REFRESH_TOKEN_REUSED = "refresh_token_reused"
    USER_DEACTIVATED = "user_deactivated"
    PASSWORD_RESET = "password_reset"


@attrs.define
class Session:
    """A login and the family of refresh tokens rotated from it, up to an absolute limit."""

    user_id: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime
    ip: str | None = attrs.field(default=None, converter=_ip)
    user_agent: str | None = attrs.field(default=None, converter=_user_agent)
    revoked_at: datetime | None = None
    revoked_reason: RevocationReason | None = None
    id: str = attrs.field(factory=new_id)

    @classmethod
    def open(
        cls,
        *,
        user_id: str,
        at: datetime,
        lifetime: timedelta,
        ip: str | None,
        user_agent: str | None,
    ) -> Session:
        return cls(
            user_id=user_id,
            created_at=at,
            expires_at=at + lifetime,
            last_used_at=at,
            ip=ip,
            user_agent=user_agent,
        )

    def is_live(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at

    def revoke(self, reason: RevocationReason, *, at: datetime) -> None:
        """Revoking twice keeps the first reason and time."""
        if self.revoked_at is None:
            self.revoked_at = at
            self.revoked_reason = reason

    def touch(self, *, at: datetime, ip: str | None, user_agent: str | None) -> None:
        self.last_used_at = at
        self.ip = _ip(ip)
        self.user_agent = _user_agent(user_agent)


def hash_refresh_token(token: str) -> str:
    """Only this digest is stored, so a leaked table gives no usable token."""
    return hashlib.sha256(token.encode()).hexdigest()


def successor_secret(secret: str, key: bytes) -> str:
    """The secret of the token a refresh token rotates into: always the same for the same
    token, so a retried refresh can be given the successor it already got; keyed, so a
    spent token read from a log does not tell its successor."""
    digest = hmac.new(key, b"refresh-successor\0" + secret.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@attrs.define
class RefreshToken:
    session_id: str
    token_hash: str
    issued_at: datetime
    expires_at: datetime
    spent_at: datetime | None = None
    id: str = attrs.field(factory=new_id)

    @classmethod
    def issue(
        cls, session: Session, *, at: datetime, lifetime: timedelta, secret: str | None = None
    ) -> tuple[RefreshToken, str]:
        """A new token of the session's family, never outliving the session; and its secret
        (random unless given: a rotation derives it, see ``successor_secret``)."""
        secret = secret or secrets.token_urlsafe(32)
        token = cls(
            session_id=session.id,
            token_hash=hash_refresh_token(secret),
            issued_at=at,
            expires_at=min(at + lifetime, session.expires_at),
        )
        return token, secret

    def is_expired(self, now: datetime) -> bool:
        return now >= self.expires_at


@attrs.frozen
class AccessClaims:
    """What a valid access token says: ``sub``, ``sid`` and ``role``."""

    user_id: str
    session_id: str
    role: Role


class AuditAction(enum.StrEnum):
    LOGIN = "auth.login"
    LOGIN_FAILED = "auth.login_failed"
    LOGOUT = "auth.logout"
    SESSION_REVOKED = "auth.session_revoked"
    REFRESH_TOKEN_REUSED = "auth.refresh_token_reused"
    REGISTERED = "user.registered"
    REGISTRATION_REPEATED = "user.registration_repeated"
    EMAIL_VERIFIED = "user.email_verified"
    PASSWORD_RESET_REQUESTED = "auth.password_reset_requested"
    PASSWORD_RESET = "auth.password_reset"
    USER_CREATED = "user.created"
    USER_UPDATED = "user.updated"
    ROLE_CHANGED = "user.role_changed"
    USER_DELETED = "user.deleted"
    ADMIN_WRITE = "admin.write"


@attrs.frozen
class AuditEvent:
    """Who did what, when and from where. ``details`` is JSON-serialisable."""

    occurred_at: datetime
    actor_id: str | None
    actor_email: str | None
    action: str = attrs.field(converter=_action)
    target: str | None = attrs.field(default=None, converter=_target)
    ip: str | None = attrs.field(default=None, converter=_ip)
    user_agent: str | None = attrs.field(default=None, converter=_user_agent)
    details: dict[str, Any] = attrs.field(factory=dict)
    id: str = attrs.field(factory=new_id)

    @classmethod
    def by(
        cls,
        principal: Principal,
        action: str,
        *,
        at: datetime,
        target: str | None = None,
        ip: str | None = None,
        user_agent: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> AuditEvent:
        return cls(
            occurred_at=at,
            actor_id=principal.user_id,
            actor_email=principal.email,
            action=action,
            target=target,
            ip=ip,
            user_agent=user_agent,
            details=details or {},
        )
