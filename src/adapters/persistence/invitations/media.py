"""Invitations' media on SQLite, PostgreSQL and MySQL/MariaDB.

An item's renditions are JSON on its row (a few, always read with it); each file guests
may ask for by name is also a row of ``invitation_media_files``, so a name is found by an
index and served only while its invitation is published.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import attrs
import sqlalchemy as sa

from adapters.persistence.bundle import RepositoryBundle, bound
from adapters.persistence.connection import Transaction, locked
from adapters.persistence.invitations.tables import invitations
from adapters.persistence.metadata import UtcDateTime, id_column, metadata
from talia_core.invitations.media import (
    MAX_REASON_LENGTH,
    MediaItem,
    MediaRendition,
    MediaRole,
    MediaStatus,
)
from talia_core.invitations.model import InvitationStatus
from talia_core.shared.errors import NotFound
from talia_core.shared.media import MediaKind

MAX_KEY = 200
MAX_FILE_NAME = 64

invitation_media = sa.Table(
    "invitation_media",
    metadata,
    id_column(primary_key=True),
    id_column("invitation_id", nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("mime_type", sa.String(64), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("original_key", sa.String(MAX_KEY), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("reason", sa.String(MAX_REASON_LENGTH)),
    sa.Column("width", sa.Integer),
    sa.Column("height", sa.Integer),
    sa.Column("renditions", sa.JSON, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.ForeignKeyConstraint(["invitation_id"], ["invitations.id"], ondelete="CASCADE"),
    sa.Index("ix_invitation_media_invitation_id_position", "invitation_id", "position"),
    sa.Index("ix_invitation_media_status_created_at", "status", "created_at"),
)

invitation_media_files = sa.Table(
    "invitation_media_files",
    metadata,
    id_column("media_id", primary_key=True),
    sa.Column("file_name", sa.String(MAX_FILE_NAME), primary_key=True),
    sa.ForeignKeyConstraint(["media_id"], ["invitation_media.id"], ondelete="CASCADE"),
    sa.Index("ix_invitation_media_files_file_name", "file_name"),
)


def _row(item: MediaItem) -> dict[str, Any]:
    values = attrs.asdict(item, recurse=False)
    for name in ("kind", "role", "status"):
        values[name] = values[name].value
    values["renditions"] = [attrs.asdict(r) for r in item.renditions]
    return values


def _item(row: sa.RowMapping) -> MediaItem:
    values = {field.name: row[field.name] for field in attrs.fields(MediaItem)}
    return MediaItem(
        **{
            **values,
            "kind": MediaKind(values["kind"]),
            "role": MediaRole(values["role"]),
            "status": MediaStatus(values["status"]),
            "renditions": tuple(MediaRendition(**r) for r in values["renditions"]),
        }
    )


class SqlAlchemyMediaRepository:
    def __init__(self, tx: Transaction, *, lock: bool = False) -> None:
        self._tx = tx
        self._lock = lock

    async def add(self, item: MediaItem) -> None:
        await self._tx.execute(invitation_media.insert().values(_row(item)))
        await self._name_files(item)

    async def get(self, media_id: str) -> MediaItem:
        query = invitation_media.select().where(invitation_media.c.id == media_id)
        row = await self._tx.one_or_none(locked(query, self._lock))
        if row is None:
            raise NotFound("media", media_id)
        return _item(row._mapping)

    async def update(self, item: MediaItem) -> None:
        values = _row(item)
        for fixed in ("id", "invitation_id", "created_at"):
            values.pop(fixed)
        result = await self._tx.execute(
            invitation_media.update().where(invitation_media.c.id == item.id).values(values)
        )
        if result.rowcount == 0:
            raise NotFound("media", item.id)
        await self._tx.execute(
            invitation_media_files.delete().where(invitation_media_files.c.media_id == item.id)
        )
        await self._name_files(item)

    async def remove(self, media_id: str) -> None:
        await self._tx.execute(
            invitation_media_files.delete().where(invitation_media_files.c.media_id == media_id)
        )
        result = await self._tx.execute(
            invitation_media.delete().where(invitation_media.c.id == media_id)
        )
        if result.rowcount == 0:
            raise NotFound("media", media_id)

    async def of_invitation(self, invitation_id: str) -> list[MediaItem]:
        query = (
            invitation_media.select()
            .where(invitation_media.c.invitation_id == invitation_id)
            .order_by(
                invitation_media.c.position, invitation_media.c.created_at, invitation_media.c.id
            )
        )
        return [_item(row._mapping) for row in await self._tx.execute(query)]

    async def published(self, file_name: str, now: datetime) -> MediaItem | None:
        query = (
            sa.select(invitation_media)
            .join(
                invitation_media_files, invitation_media_files.c.media_id == invitation_media.c.id
            )
            .join(invitations, invitations.c.id == invitation_media.c.invitation_id)
            .where(
                invitation_media_files.c.file_name == file_name,
                invitation_media.c.status == MediaStatus.READY.value,
                invitations.c.status == InvitationStatus.PUBLISHED.value,
                sa.or_(invitations.c.expires_at.is_(None), invitations.c.expires_at > now),
            )
            .order_by(invitation_media.c.id)
            .limit(1)
        )
        row = await self._tx.one_or_none(query)
        return None if row is None else _item(row._mapping)

    async def processing(self, limit: int) -> Sequence[MediaItem]:
        query = (
            invitation_media.select()
            .where(invitation_media.c.status == MediaStatus.PROCESSING.value)
            .order_by(invitation_media.c.created_at, invitation_media.c.id)
            .limit(limit)
        )
        return [_item(row._mapping) for row in await self._tx.execute(locked(query, self._lock))]

    async def _name_files(self, item: MediaItem) -> None:
        names = sorted({r.file_name for r in item.renditions})
        if names:
            await self._tx.execute(
                invitation_media_files.insert(),
                [{"media_id": item.id, "file_name": name} for name in names],
            )


class InvitationMediaRepositories(RepositoryBundle):
    invitation_media = bound(SqlAlchemyMediaRepository, locks=True)
