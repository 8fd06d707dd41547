"""Invitations' short URLs on SQLite, PostgreSQL and MySQL/MariaDB.

A click is ``clicks = clicks + 1`` in one UPDATE: concurrent clicks never read a stale
count. Nothing about the visitor is stored.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from adapters.persistence.connection import Transaction
from adapters.persistence.invitations.tables import invitations
from adapters.persistence.metadata import UtcDateTime, metadata
from talia_core.invitations.public import ShortUrl

# Base62 codes differ by case: MySQL/MariaDB compare them byte for byte, not by their
# default case-insensitive collation.
CODE = sa.String(16).with_variant(
    mysql.VARCHAR(16, charset="ascii", collation="ascii_bin"), "mysql", "mariadb"
)

short_urls = sa.Table(
    "invitation_short_urls",
    metadata,
    sa.Column("code", CODE, primary_key=True),
    sa.Column(
        "invitation_id",
        sa.String(36),
        sa.ForeignKey("invitations.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("clicks", sa.BigInteger, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
)


def _short_url(row: sa.RowMapping) -> ShortUrl:
    return ShortUrl(
        code=row["code"],
        invitation_id=row["invitation_id"],
        created_at=row["created_at"],
        clicks=row["clicks"],
    )


class SqlAlchemyShortUrlRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def add(self, short_url: ShortUrl) -> None:
        values = {
            "code": short_url.code,
            "invitation_id": short_url.invitation_id,
            "clicks": short_url.clicks,
            "created_at": short_url.created_at,
        }
        await self._tx.execute(short_urls.insert().values(values))

    async def of_invitation(self, invitation_id: str) -> list[ShortUrl]:
        query = (
            short_urls.select()
            .where(short_urls.c.invitation_id == invitation_id)
            .order_by(short_urls.c.created_at.desc(), short_urls.c.code.desc())
        )
        return [_short_url(row._mapping) for row in await self._tx.execute(query)]

    async def target(self, code: str) -> str | None:
        query = (
            sa.select(invitations.c.slug)
            .select_from(short_urls.join(invitations))
            .where(short_urls.c.code == code)
        )
        slug: str | None = (await self._tx.execute(query)).scalar_one_or_none()
        return slug

    async def count(self, code: str, clicks: int) -> None:
        await self._tx.execute(
            short_urls.update()
            .where(short_urls.c.code == code)
            .values(clicks=short_urls.c.clicks + clicks)
        )
