"""What the identity context needs from storage, cryptography and a shared counter store."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

import attrs

from talia_core.identity.email_tokens import EmailToken, TokenPurpose
from talia_core.identity.model import (
    AccessClaims,
    AuditEvent,
    Principal,
    RefreshToken,
    RevocationReason,
    Role,
    Session,
    User,
)
from talia_core.shared.jobs import JobStore
from talia_core.shared.pagination import Page, PageRequest
from talia_core.shared.ports import UnitOfWork


class UserRepository(Protocol):
    async def add(self, user: User) -> None:
        """Raises ``Conflict`` when the e-mail is taken."""
        ...

    async def get(self, user_id: str) -> User:
        """Raises ``NotFound`` when there is no such user.

        In a writing unit the user is held until the transaction ends, so ``update`` cannot
        write back a stale copy over a change committed meanwhile.
        """
        ...

    async def update(self, user: User) -> None: ...

    async def find_by_email(self, email: str) -> User | None:
        """``email`` is already lower-cased."""
        ...

    async def find(self, page: PageRequest, *, role: Role | None, text: str | None) -> Page[User]:
        """Newest first; ``text`` matches part of the e-mail or name, ignoring case."""
        ...

    async def active_admin_ids(self) -> list[str]:
        """Held until the transaction ends, so two demotions cannot both see a spare admin."""
        ...


class SessionRepository(Protocol):
    async def add(self, session: Session) -> None: ...

    async def get(self, session_id: str) -> Session:
        """Raises ``NotFound`` when there is no such session; held like ``UserRepository.get``."""
        ...

    async def get_with_user(self, session_id: str) -> tuple[Session, User]:
        """The session and its user. Raises ``NotFound``.

        In a writing unit the session (not the user) is held until the transaction ends.
        """
        ...

    async def update(self, session: Session) -> None: ...

    async def revoke_all(self, user_id: str, reason: RevocationReason, *, at: datetime) -> int:
        """Revoke every session of the user not yet revoked; return how many."""
        ...

    async def find(self, page: PageRequest, *, user_id: str, live_at: datetime) -> Page[Session]:
        """The user's sessions neither revoked nor expired at ``live_at``, newest first."""
        ...


class RefreshTokenRepository(Protocol):
    async def add(self, token: RefreshToken) -> None: ...

    async def get_by_hash(self, token_hash: str) -> RefreshToken:
        """Raises ``NotFound`` when no token has this hash."""
        ...

    async def spend(self, token_id: str, *, at: datetime) -> bool:
        """Mark the token spent only if it is not yet; tell whether this call spent it.

        Two concurrent callers cannot both get ``True``.
        """
        ...


class AuditEventRepository(Protocol):
    async def add(self, event: AuditEvent) -> None: ...

    async def find(
        self,
        page: PageRequest,
        *,
        actor_id: str | None,
        action: str | None,
        since: datetime | None,
    ) -> Page[AuditEvent]:
        """Newest first."""
        ...


class EmailTokenRepository(Protocol):
    async def add(self, token: EmailToken) -> None: ...

    async def owner(self, token_hash: str, purpose: TokenPurpose, *, at: datetime) -> str | None:
        """The id of the user whose token of this hash and purpose is unused and unexpired
        at ``at``; None when there is none."""
        ...

    async def redeem(self, token_hash: str, purpose: TokenPurpose, *, at: datetime) -> str | None:
        """Mark the token of this hash and purpose used, if it is unused and unexpired at
        ``at``; the id of its user when this call used it, else None.

        One conditional update: of concurrent callers with one token, only one gets the id.
        """
        ...

    async def use_all(self, user_id: str, purpose: TokenPurpose, *, at: datetime) -> int:
        """Mark every unused token of the user for ``purpose`` used; how many."""
        ...


class IdentityUnitOfWork(UnitOfWork, Protocol):
    @property
    def users(self) -> UserRepository: ...

    @property
    def sessions(self) -> SessionRepository: ...

    @property
    def refresh_tokens(self) -> RefreshTokenRepository: ...

    @property
    def audit_events(self) -> AuditEventRepository: ...

    @property
    def email_tokens(self) -> EmailTokenRepository: ...

    @property
    def jobs(self) -> JobStore: ...


class PasswordHasher(Protocol):
    """Slow on purpose; implementations keep that work off the event loop."""

    async def hash(self, password: str) -> str: ...

    async def verify(self, password_hash: str, password: str) -> bool:
        """False for a wrong password and for a hash it cannot read; never raises."""
        ...

    def needs_rehash(self, password_hash: str) -> bool:
        """True when the hash was made with weaker parameters than the current ones."""
        ...

    def reads(self, password_hash: str) -> bool:
        """Whether ``verify`` can check hashes of this one's format (an imported user's)."""
        ...


class AccessTokens(Protocol):
    """Short-lived signed bearer tokens naming the user, the session and the role."""

    def issue(self, principal: Principal, *, now: datetime, lifetime: timedelta) -> str: ...

    def read(self, token: str, *, now: datetime) -> AccessClaims:
        """Raises ``Unauthorized`` for anything but a valid, unexpired access token."""
        ...


@attrs.frozen
class AttemptWindow:
    """The attempts counted under a key, and when that count starts again from zero."""

    count: int
    resets_in_seconds: int


class CommonPasswords(Protocol):
    """The passwords attackers try first (NIST SP 800-63B §5.1.1.2: screen new passwords
    against lists of common, expected or compromised ones)."""

    def is_common(self, password: str) -> bool:
        """Whether ``password``, whatever its case, is a well-known one or one with only
        digits and symbols added to its end (``Password1234!``)."""
        ...


class AttemptStore(Protocol):
    """Counters in fixed windows, shared by every worker of the deployment."""

    async def current(self, key: str) -> AttemptWindow:
        """A count of 0 when no window is open for the key."""
        ...

    async def hit(self, key: str, *, window_seconds: int) -> AttemptWindow:
        """Count one attempt, opening a window of ``window_seconds`` if none is open.

        Atomic: of concurrent hits on one key, each sees a different count.
        """
        ...

    async def take_back(self, key: str) -> None:
        """Uncount one attempt of the key's open window; nothing when none is open."""
        ...

    async def clear(self, key: str) -> None: ...
