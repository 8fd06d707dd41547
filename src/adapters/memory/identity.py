"""In-memory repositories of the identity context."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import attrs

from adapters.memory.database import InMemoryRepositoryBundle, InMemoryTable, State, paginate
from talia_core.identity.email_tokens import EmailToken, TokenPurpose
from talia_core.identity.model import (
    AuditEvent,
    RefreshToken,
    RevocationReason,
    Role,
    Session,
    User,
)
from talia_core.shared.errors import Conflict, NotFound
from talia_core.shared.pagination import Page, PageRequest


class InMemoryUserRepository(InMemoryTable[User]):
    def __init__(self, state: Callable[[], State]) -> None:
        super().__init__(state, "users", "user")

    async def add(self, user: User) -> None:
        if await self.find_by_email(user.email) is not None:
            raise Conflict(f"a user with the e-mail {user.email} already exists")
        await super().add(user)

    async def find_by_email(self, email: str) -> User | None:
        found = self.matching(lambda u: u.email == email)
        return found[0] if found else None

    async def find(self, page: PageRequest, *, role: Role | None, text: str | None) -> Page[User]:
        needle = text.lower() if text else None

        def keep(user: User) -> bool:
            if role is not None and user.role is not role:
                return False
            return needle is None or needle in user.email or needle in user.name.lower()

        return paginate(self.matching(keep), page, key=lambda u: (u.created_at, u.id))

    async def active_admin_ids(self) -> list[str]:
        return [u.id for u in self.matching(lambda u: u.is_active_admin)]


class InMemorySessionRepository(InMemoryTable[Session]):
    def __init__(self, state: Callable[[], State]) -> None:
        super().__init__(state, "sessions", "session")
        self._users = InMemoryUserRepository(state)

    async def get_with_user(self, session_id: str) -> tuple[Session, User]:
        session = await self.get(session_id)
        return session, await self._users.get(session.user_id)

    async def revoke_all(self, user_id: str, reason: RevocationReason, *, at: datetime) -> int:
        revoked = self.matching(lambda s: s.user_id == user_id and s.revoked_at is None)
        for session in revoked:
            session.revoke(reason, at=at)
            await self.update(session)
        return len(revoked)

    async def find(self, page: PageRequest, *, user_id: str, live_at: datetime) -> Page[Session]:
        found = self.matching(lambda s: s.user_id == user_id and s.is_live(live_at))
        return paginate(found, page, key=lambda s: (s.created_at, s.id))


class InMemoryRefreshTokenRepository(InMemoryTable[RefreshToken]):
    def __init__(self, state: Callable[[], State]) -> None:
        super().__init__(state, "refresh_tokens", "refresh token")

    async def add(self, token: RefreshToken) -> None:
        if self.matching(lambda t: t.token_hash == token.token_hash):
            raise Conflict("a refresh token with the same hash already exists")
        await super().add(token)

    async def get_by_hash(self, token_hash: str) -> RefreshToken:
        found = self.matching(lambda t: t.token_hash == token_hash)
        if not found:
            raise NotFound("refresh token", token_hash[:8])
        return found[0]

    async def spend(self, token_id: str, *, at: datetime) -> bool:
        stored: RefreshToken | None = self.rows.get(token_id)
        if stored is None or stored.spent_at is not None:
            return False
        stored.spent_at = at
        return True


class InMemoryEmailTokenRepository(InMemoryTable[EmailToken]):
    def __init__(self, state: Callable[[], State]) -> None:
        super().__init__(state, "email_tokens", "e-mail token")

    async def add(self, token: EmailToken) -> None:
        if self.matching(lambda t: t.token_hash == token.token_hash):
            raise Conflict("an e-mail token with the same hash already exists")
        await super().add(token)

    def _usable(self, token_hash: str, purpose: TokenPurpose, at: datetime) -> list[EmailToken]:
        return self.matching(
            lambda t: (
                t.token_hash == token_hash
                and t.purpose is purpose
                and t.used_at is None
                and at < t.expires_at
            )
        )

    async def owner(self, token_hash: str, purpose: TokenPurpose, *, at: datetime) -> str | None:
        found = self._usable(token_hash, purpose, at)
        return found[0].user_id if found else None

    async def redeem(self, token_hash: str, purpose: TokenPurpose, *, at: datetime) -> str | None:
        found = self._usable(token_hash, purpose, at)
        if not found:
            return None
        await self.update(attrs.evolve(found[0], used_at=at))
        return found[0].user_id

    async def use_all(self, user_id: str, purpose: TokenPurpose, *, at: datetime) -> int:
        unused = self.matching(
            lambda t: t.user_id == user_id and t.purpose is purpose and t.used_at is None
        )
        for token in unused:
            await self.update(attrs.evolve(token, used_at=at))
        return len(unused)


class InMemoryAuditEventRepository(InMemoryTable[AuditEvent]):
    def __init__(self, state: Callable[[], State]) -> None:
        super().__init__(state, "audit_events", "audit event")

    async def find(
        self,
        page: PageRequest,
        *,
        actor_id: str | None,
        action: str | None,
        since: datetime | None,
    ) -> Page[AuditEvent]:
        found = self.matching(
            lambda e: (
                (actor_id is None or e.actor_id == actor_id)
                and (action is None or e.action == action)
                and (since is None or e.occurred_at >= since)
            )
        )
        return paginate(found, page, key=lambda e: (e.occurred_at, e.id))


class InMemoryIdentityRepositories(InMemoryRepositoryBundle):
    users: InMemoryUserRepository
    sessions: InMemorySessionRepository
    refresh_tokens: InMemoryRefreshTokenRepository
    audit_events: InMemoryAuditEventRepository
    email_tokens: InMemoryEmailTokenRepository

    def bind(self, state: Callable[[], State]) -> None:
        self.users = InMemoryUserRepository(state)
        self.sessions = InMemorySessionRepository(state)
        self.refresh_tokens = InMemoryRefreshTokenRepository(state)
        self.audit_events = InMemoryAuditEventRepository(state)
        self.email_tokens = InMemoryEmailTokenRepository(state)
        super().bind(state)
