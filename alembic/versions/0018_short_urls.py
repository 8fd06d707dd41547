"""invitation short URLs: random base62 codes and a click counter

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 09:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The column types as this revision created them, frozen here so the migration never
# changes with the application's code.
UTC_DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
CODE = sa.String(length=16).with_variant(
    mysql.VARCHAR(16, charset="ascii", collation="ascii_bin"), "mysql", "mariadb"
)


def upgrade() -> None:
    op.create_table(
        "invitation_short_urls",
        sa.Column("code", CODE, nullable=False),
        sa.Column("invitation_id", sa.String(length=36), nullable=False),
        sa.Column("clicks", sa.BigInteger(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["invitation_id"],
            ["invitations.id"],
            name=op.f("fk_invitation_short_urls_invitation_id_invitations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_invitation_short_urls")),
    )
    with op.batch_alter_table("invitation_short_urls", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_invitation_short_urls_invitation_id"), ["invitation_id"]
        )


def downgrade() -> None:
    op.drop_table("invitation_short_urls")
