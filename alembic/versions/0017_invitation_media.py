"""invitation media: photos, a cover and an audio track in order, and the files guests get
by name

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 09:15:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The column types as this revision created them, frozen here so the migration never
# changes with the application's code.
UTC_DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "invitation_media",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("invitation_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("mime_type", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("original_key", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("renditions", sa.JSON(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["invitation_id"],
            ["invitations.id"],
            name=op.f("fk_invitation_media_invitation_id_invitations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitation_media")),
    )
    with op.batch_alter_table("invitation_media", schema=None) as batch_op:
        batch_op.create_index(
            "ix_invitation_media_invitation_id_position", ["invitation_id", "position"]
        )
        batch_op.create_index("ix_invitation_media_status_created_at", ["status", "created_at"])
    op.create_table(
        "invitation_media_files",
        sa.Column("media_id", sa.String(length=36), nullable=False),
        sa.Column("file_name", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["media_id"],
            ["invitation_media.id"],
            name=op.f("fk_invitation_media_files_media_id_invitation_media"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("media_id", "file_name", name=op.f("pk_invitation_media_files")),
    )
    with op.batch_alter_table("invitation_media_files", schema=None) as batch_op:
        batch_op.create_index("ix_invitation_media_files_file_name", ["file_name"])


def downgrade() -> None:
    op.drop_table("invitation_media_files")
    op.drop_table("invitation_media")
