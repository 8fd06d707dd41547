"""Guests and answers (RSVP) on SQLite, PostgreSQL and MySQL/MariaDB.

A guest answers once (unique ``guest_id``); without a guest list a contact answers once per
invitation (unique ``invitation_id``, ``contact_key``). The allowance is held by locking the
invitation's row while an answer is counted and written (see ``RsvpService``).
"""

from __future__ import annotations

from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from adapters.persistence.bundle import RepositoryBundle, bound
from adapters.persistence.connection import Transaction, locked
from adapters.persistence.invitations.tables import invitations
from adapters.persistence.metadata import UtcDateTime, id_column, metadata
from talia_core.invitations.rsvp import (
    MAX_CONTACT,
    MAX_DIETARY,
    MAX_GUEST_NAME,
    MAX_MESSAGE,
    TOKEN_MAX,
    Answer,
    Guest,
)
from talia_core.shared.errors import NotFound
from talia_core.shared.pagination import Page, PageRequest

MAX_CONTACT_KEY = MAX_CONTACT + len("email:")
# Tokens are base64url, where case counts: MySQL/MariaDB compare them byte for byte, not by
# their default case-insensitive collation (``alembic/versions/0019_guest_tokens_by_bytes``).
TOKEN = sa.String(TOKEN_MAX).with_variant(
    mysql.VARCHAR(TOKEN_MAX, charset="ascii", collation="ascii_bin"), "mysql", "mariadb"
)

invitation_guests = sa.Table(
    "invitation_guests",
    metadata,
    id_column(primary_key=True),
    id_column("invitation_id", nullable=False),
    sa.Column("name", sa.String(MAX_GUEST_NAME), nullable=False),
    sa.Column("allowance", sa.Integer, nullable=False),
    sa.Column("token", TOKEN, nullable=False, unique=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.ForeignKeyConstraint(["invitation_id"], ["invitations.id"], ondelete="CASCADE"),
    sa.Index("ix_invitation_guests_invitation_id_created_at", "invitation_id", "created_at"),
)

invitation_answers = sa.Table(
    "invitation_answers",
    metadata,
    id_column(primary_key=True),
    id_column("invitation_id", nullable=False),
    id_column("guest_id", unique=True),
    sa.Column("contact_key", sa.String(MAX_CONTACT_KEY)),
    sa.Column("attending", sa.Boolean, nullable=False),
    sa.Column("party_size", sa.Integer, nullable=False),
    sa.Column("names", sa.JSON, nullable=False),
    sa.Column("dietary", sa.String(MAX_DIETARY)),
    sa.Column("message", sa.String(MAX_MESSAGE)),
    sa.Column("contact", sa.String(MAX_CONTACT)),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.ForeignKeyConstraint(["invitation_id"], ["invitations.id"], ondelete="CASCADE"),
    sa.ForeignKeyConstraint(["guest_id"], ["invitation_guests.id"], ondelete="CASCADE"),
    # NULLs never collide: a guest's answer has no contact key, a contact's no guest.
    sa.UniqueConstraint("invitation_id", "contact_key"),
    sa.Index("ix_invitation_answers_invitation_id_created_at", "invitation_id", "created_at"),
)


def _guest(row: sa.RowMapping) -> Guest:
    return Guest(**{field.name: row[field.name] for field in attrs.fields(Guest)})


def _answer(row: sa.RowMapping) -> Answer:
    values = {field.name: row[field.name] for field in attrs.fields(Answer)}
    return Answer(**{**values, "names": list(values["names"])})


def _answer_row(answer: Answer) -> dict[str, Any]:
    return attrs.asdict(answer, recurse=False)


class SqlAlchemyGuestRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def add(self, guest: Guest) -> None:
        await self._tx.execute(invitation_guests.insert().values(attrs.asdict(guest)))

    async def find(self, invitation_id: str, page: PageRequest) -> Page[Guest]:
        query = invitation_guests.select().where(invitation_guests.c.invitation_id == invitation_id)
        order = [invitation_guests.c.created_at.desc(), invitation_guests.c.id.desc()]
        return await self._tx.page(query, page, order, _guest)

    async def every(self, invitation_id: str) -> list[Guest]:
        query = (
            invitation_guests.select()
            .where(invitation_guests.c.invitation_id == invitation_id)
            .order_by(invitation_guests.c.created_at, invitation_guests.c.id)
        )
        return [_guest(row._mapping) for row in await self._tx.execute(query)]

    async def by_token(self, invitation_id: str, token: str) -> Guest:
        row = await self._tx.one_or_none(
            invitation_guests.select().where(
                invitation_guests.c.invitation_id == invitation_id,
                invitation_guests.c.token == token,
            )
        )
        if row is None:
            raise NotFound("guest", "of this link")
        return _guest(row._mapping)

    async def has_any(self, invitation_id: str) -> bool:
        query = sa.select(invitation_guests.c.id).where(
            invitation_guests.c.invitation_id == invitation_id
        )
        return await self._tx.one_or_none(query.limit(1)) is not None

    async def remove(self, invitation_id: str, guest_id: str) -> None:
        # Its answer goes with it: the foreign key cascades.
        result = await self._tx.execute(
            invitation_guests.delete().where(
                invitation_guests.c.invitation_id == invitation_id,
                invitation_guests.c.id == guest_id,
            )
        )
        if result.rowcount == 0:
            raise NotFound("guest", guest_id)


class SqlAlchemyAnswerRepository:
    """In a writing unit its reads lock (``FOR UPDATE``): under MySQL's repeatable read a
    locking read is also the one that sees answers committed since the transaction began."""

    def __init__(self, tx: Transaction, *, lock: bool = False) -> None:
        self._tx = tx
        self._lock = lock

    async def invitation_id(self, slug: str) -> str:
        query = sa.select(invitations.c.id).where(invitations.c.slug == slug)
        found = (await self._tx.execute(query)).scalar_one_or_none()
        if found is None:
            raise NotFound("invitation", slug)
        return str(found)

    async def add(self, answer: Answer) -> None:
        await self._tx.execute(invitation_answers.insert().values(_answer_row(answer)))

    async def update(self, answer: Answer) -> None:
        values = _answer_row(answer)
        for fixed in ("id", "invitation_id", "guest_id", "contact_key", "created_at"):
            values.pop(fixed)
        result = await self._tx.execute(
            invitation_answers.update().where(invitation_answers.c.id == answer.id).values(values)
        )
        if result.rowcount == 0:
            raise NotFound("answer", answer.id)

    async def of_guest(self, guest_id: str) -> Answer | None:
        return await self._one(invitation_answers.c.guest_id == guest_id)

    async def of_contact(self, invitation_id: str, contact_key: str) -> Answer | None:
        return await self._one(
            invitation_answers.c.invitation_id == invitation_id,
            invitation_answers.c.contact_key == contact_key,
        )

    async def confirmed(self, invitation_id: str, *, excluding: str | None = None) -> int:
        # The rows, summed here: PostgreSQL locks no rows of an aggregate.
        query = sa.select(invitation_answers.c.party_size).where(
            invitation_answers.c.invitation_id == invitation_id,
            invitation_answers.c.attending.is_(True),
        )
        if excluding is not None:
            query = query.where(invitation_answers.c.id != excluding)
        return sum((await self._tx.execute(locked(query, self._lock))).scalars())

    async def find(self, invitation_id: str, page: PageRequest) -> Page[Answer]:
        query = invitation_answers.select().where(
            invitation_answers.c.invitation_id == invitation_id
        )
        order = [invitation_answers.c.created_at.desc(), invitation_answers.c.id.desc()]
        return await self._tx.page(query, page, order, _answer)

    async def every(self, invitation_id: str) -> list[Answer]:
        query = (
            invitation_answers.select()
            .where(invitation_answers.c.invitation_id == invitation_id)
            .order_by(invitation_answers.c.created_at, invitation_answers.c.id)
        )
        return [_answer(row._mapping) for row in await self._tx.execute(query)]

    async def _one(self, *where: sa.ColumnElement[bool]) -> Answer | None:
        query = locked(invitation_answers.select().where(*where), self._lock)
        row = await self._tx.one_or_none(query)
        return _answer(row._mapping) if row is not None else None


class RsvpRepositories(RepositoryBundle):
    guests = bound(SqlAlchemyGuestRepository)
    answers = bound(SqlAlchemyAnswerRepository, locks=True)
