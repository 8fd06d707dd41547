"""Tables, row mappers and repositories of the identity context.

In a writing unit of work, ``users.get``, ``sessions.get`` and ``sessions.get_with_user``
lock the row they read (``FOR UPDATE``) until the transaction ends: the row is read to be
changed and written back whole, so a change committed in between (a logout, a
deactivation) must not be undone from a stale copy. ``get_with_user`` locks the session
only: a user update takes the user and then their sessions, and taking the two the other
way round could deadlock. SQLite, which serialises writers anyway, ignores the clause;
reading units lock nothing.

E-mails and token hashes compare byte for byte on MySQL and MariaDB too, whose default
collations would make ``josé@x`` and ``jose@x`` one e-mail.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from adapters.persistence.bundle import RepositoryBundle, bound
from adapters.persistence.connection import Transaction
from adapters.persistence.mapping import as_row, from_row
from adapters.persistence.metadata import UtcDateTime, id_column, metadata
from talia_core.identity.email_tokens import EmailToken, TokenPurpose
from talia_core.identity.model import (
    AuditEvent,
    RefreshToken,
    RevocationReason,
    Role,
    Session,
    User,
)
from talia_core.shared.errors import NotFound
from talia_core.shared.pagination import Page, PageRequest


def _binary_string(length: int) -> sa.types.TypeEngine[str]:
    """A string compared byte for byte on every dialect (MySQL's default collation ignores
    case and accents; PostgreSQL and SQLite compare bytes already)."""
    return sa.String(length).with_variant(
        mysql.VARCHAR(length, collation="utf8mb4_bin"), "mysql", "mariadb"
    )


users = sa.Table(
    "users",
    metadata,
    id_column(primary_key=True),
    sa.Column("email", _binary_string(254), nullable=False, unique=True),
    sa.Column("name", sa.String(120), nullable=False),
    sa.Column("role", sa.String(16), nullable=False, index=True),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False, index=True),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Column("email_verified_at", UtcDateTime),
)

sessions = sa.Table(
    "sessions",
    metadata,
    id_column(primary_key=True),
    id_column("user_id", nullable=False, index=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("expires_at", UtcDateTime, nullable=False),
    sa.Column("revoked_at", UtcDateTime),
    sa.Column("revoked_reason", sa.String(32)),
    sa.Column("ip", sa.String(45)),
    sa.Column("user_agent", sa.String(512)),
    sa.Column("last_used_at", UtcDateTime, nullable=False),
    sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
)

refresh_tokens = sa.Table(
    "refresh_tokens",
    metadata,
    id_column(primary_key=True),
    id_column("session_id", nullable=False, index=True),
    sa.Column("token_hash", _binary_string(64), nullable=False, unique=True),
    sa.Column("issued_at", UtcDateTime, nullable=False),
    sa.Column("expires_at", UtcDateTime, nullable=False),
    sa.Column("spent_at", UtcDateTime),
    sa.ForeignKeyConstraint(["session_id"], ["sessions.id"]),
)

email_tokens = sa.Table(
    "email_tokens",
    metadata,
    id_column(primary_key=True),
    id_column("user_id", nullable=False, index=True),
    sa.Column("purpose", sa.String(32), nullable=False),
    sa.Column("token_hash", _binary_string(64), nullable=False, unique=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("expires_at", UtcDateTime, nullable=False),
    sa.Column("used_at", UtcDateTime),
    sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
)

audit_events = sa.Table(
    "audit_events",
    metadata,
    id_column(primary_key=True),
    sa.Column("occurred_at", UtcDateTime, nullable=False, index=True),
    id_column("actor_id", index=True),
    sa.Column("actor_email", sa.String(254)),
    sa.Column("action", sa.String(64), nullable=False, index=True),
    sa.Column("target", sa.String(200)),
    sa.Column("ip", sa.String(45)),
    sa.Column("user_agent", sa.String(512)),
    sa.Column("details", sa.JSON, nullable=False),
)

_USER_PREFIX = "user__"


class SqlAlchemyUserRepository:
    def __init__(self, tx: Transaction, *, lock: bool = False) -> None:
        self._tx = tx
        self._lock = lock

    async def add(self, user: User) -> None:
        await self._tx.execute(users.insert().values(as_row(user)))

    async def get(self, user_id: str) -> User:
        query = users.select().where(users.c.id == user_id)
        row = await self._tx.one_or_none(query.with_for_update() if self._lock else query)
        if row is None:
            raise NotFound("user", user_id)
        return from_row(User, row._mapping)

    async def update(self, user: User) -> None:
        await self._tx.execute(
            users.update()
            .where(users.c.id == user.id)
            .values(
                name=user.name,
                role=user.role.value,
                password_hash=user.password_hash,
                active=user.active,
                updated_at=user.updated_at,
                email_verified_at=user.email_verified_at,
            )
        )

    async def find_by_email(self, email: str) -> User | None:
        row = await self._tx.one_or_none(users.select().where(users.c.email == email))
        return None if row is None else from_row(User, row._mapping)

    async def find(self, page: PageRequest, *, role: Role | None, text: str | None) -> Page[User]:
        query = users.select()
        if role is not None:
            query = query.where(users.c.role == role.value)
        if text:
            needle = text.lower()
            query = query.where(
                sa.or_(
                    users.c.email.contains(needle, autoescape=True),
                    sa.func.lower(users.c.name).contains(needle, autoescape=True),
                )
            )
        order = [users.c.created_at.desc(), users.c.id.desc()]
        return await self._tx.page(query, page, order, partial(from_row, User))

    async def active_admin_ids(self) -> list[str]:
        query = (
            sa.select(users.c.id)
            .where(users.c.role == Role.ADMIN.value, users.c.active.is_(True))
            .with_for_update()
        )
        return list((await self._tx.execute(query)).scalars())


class SqlAlchemySessionRepository:
    def __init__(self, tx: Transaction, *, lock: bool = False) -> None:
        self._tx = tx
        self._lock = lock

    async def add(self, session: Session) -> None:
        await self._tx.execute(sessions.insert().values(as_row(session)))

    async def get(self, session_id: str) -> Session:
        query = sessions.select().where(sessions.c.id == session_id)
        row = await self._tx.one_or_none(query.with_for_update() if self._lock else query)
        if row is None:
            raise NotFound("session", session_id)
        return from_row(Session, row._mapping)

    async def get_with_user(self, session_id: str) -> tuple[Session, User]:
        if self._lock:  # two reads, so that only the session is locked (MariaDB has no OF)
            session = await self.get(session_id)
            user = await self._tx.one_or_none(users.select().where(users.c.id == session.user_id))
            if user is None:
                raise NotFound("user", session.user_id)
            return session, from_row(User, user._mapping)
        query = (
            sa.select(sessions, *(c.label(_USER_PREFIX + c.name) for c in users.c))
            .join_from(sessions, users, sessions.c.user_id == users.c.id)
            .where(sessions.c.id == session_id)
        )
        row = await self._tx.one_or_none(query)
        if row is None:
            raise NotFound("session", session_id)
        return from_row(Session, row._mapping), from_row(User, row._mapping, _USER_PREFIX)

    async def update(self, session: Session) -> None:
        await self._tx.execute(
            sessions.update()
            .where(sessions.c.id == session.id)
            .values(
                revoked_at=session.revoked_at,
                revoked_reason=session.revoked_reason.value if session.revoked_reason else None,
                ip=session.ip,
                user_agent=session.user_agent,
                last_used_at=session.last_used_at,
            )
        )

    async def revoke_all(self, user_id: str, reason: RevocationReason, *, at: datetime) -> int:
        result = await self._tx.execute(
            sessions.update()
            .where(sessions.c.user_id == user_id, sessions.c.revoked_at.is_(None))
            .values(revoked_at=at, revoked_reason=reason.value)
        )
        return result.rowcount

    async def find(self, page: PageRequest, *, user_id: str, live_at: datetime) -> Page[Session]:
        query = sessions.select().where(
            sessions.c.user_id == user_id,
            sessions.c.revoked_at.is_(None),
            sessions.c.expires_at > live_at,
        )
        order = [sessions.c.created_at.desc(), sessions.c.id.desc()]
        return await self._tx.page(query, page, order, partial(from_row, Session))


class SqlAlchemyRefreshTokenRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def add(self, token: RefreshToken) -> None:
        await self._tx.execute(refresh_tokens.insert().values(as_row(token)))

    async def get_by_hash(self, token_hash: str) -> RefreshToken:
        row = await self._tx.one_or_none(
            refresh_tokens.select().where(refresh_tokens.c.token_hash == token_hash)
        )
        if row is None:
            raise NotFound("refresh token", token_hash[:8])
        return from_row(RefreshToken, row._mapping)

    async def spend(self, token_id: str, *, at: datetime) -> bool:
        result = await self._tx.execute(
            refresh_tokens.update()
            .where(refresh_tokens.c.id == token_id, refresh_tokens.c.spent_at.is_(None))
            .values(spent_at=at)
        )
        return result.rowcount == 1


class SqlAlchemyEmailTokenRepository:
    """A token is spent by one ``UPDATE … WHERE used_at IS NULL AND expires_at > now``: the
    database lets one of concurrent spenders change the row (see ``EmailTokenRepository``)."""

    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def add(self, token: EmailToken) -> None:
        await self._tx.execute(email_tokens.insert().values(as_row(token)))

    @staticmethod
    def _usable(token_hash: str, purpose: TokenPurpose, at: datetime) -> sa.ColumnElement[bool]:
        return sa.and_(
            email_tokens.c.token_hash == token_hash,
            email_tokens.c.purpose == purpose.value,
            email_tokens.c.used_at.is_(None),
            email_tokens.c.expires_at > at,
        )

    async def owner(self, token_hash: str, purpose: TokenPurpose, *, at: datetime) -> str | None:
        query = sa.select(email_tokens.c.user_id).where(self._usable(token_hash, purpose, at))
        row = await self._tx.one_or_none(query)
        return None if row is None else str(row.user_id)

    async def redeem(self, token_hash: str, purpose: TokenPurpose, *, at: datetime) -> str | None:
        owner = await self.owner(token_hash, purpose, at=at)
        if owner is None:
            return None
        result = await self._tx.execute(
            email_tokens.update().where(self._usable(token_hash, purpose, at)).values(used_at=at)
        )
        return owner if result.rowcount == 1 else None

    async def use_all(self, user_id: str, purpose: TokenPurpose, *, at: datetime) -> int:
        result = await self._tx.execute(
            email_tokens.update()
            .where(
                email_tokens.c.user_id == user_id,
                email_tokens.c.purpose == purpose.value,
                email_tokens.c.used_at.is_(None),
            )
            .values(used_at=at)
        )
        return result.rowcount


class SqlAlchemyAuditEventRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def add(self, event: AuditEvent) -> None:
        await self._tx.execute(audit_events.insert().values(as_row(event)))

    async def find(
        self,
        page: PageRequest,
        *,
        actor_id: str | None,
        action: str | None,
        since: datetime | None,
    ) -> Page[AuditEvent]:
        query = audit_events.select()
        if actor_id is not None:
            query = query.where(audit_events.c.actor_id == actor_id)
        if action is not None:
            query = query.where(audit_events.c.action == action)
        if since is not None:
            query = query.where(audit_events.c.occurred_at >= since)
        order = [audit_events.c.occurred_at.desc(), audit_events.c.id.desc()]
        return await self._tx.page(query, page, order, partial(from_row, AuditEvent))


class IdentityRepositories(RepositoryBundle):
    users = bound(SqlAlchemyUserRepository, locks=True)
    sessions = bound(SqlAlchemySessionRepository, locks=True)
    refresh_tokens = bound(SqlAlchemyRefreshTokenRepository)
    audit_events = bound(SqlAlchemyAuditEventRepository)
    email_tokens = bound(SqlAlchemyEmailTokenRepository)
