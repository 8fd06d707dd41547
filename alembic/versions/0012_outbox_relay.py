"""outbox relay: when each event was relayed to its consumers, in place of the publication
time nothing ever wrote

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 07:40:00.000000

The events already in the outbox were recorded when no consumer existed: they are marked
relayed now, so a webhook configured later is not sent the past.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The column type of UtcDateTime as this revision created it, frozen here so the migration
# never changes with the application's code.
UTC_DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_published_at"))
        batch_op.drop_column("published_at")
        batch_op.add_column(sa.Column("relayed_at", UTC_DATETIME, nullable=True))
        batch_op.create_index(
            batch_op.f("ix_outbox_relayed_at_occurred_at_id"),
            ["relayed_at", "occurred_at", "id"],
            unique=False,
        )
    now = datetime.now(UTC).replace(tzinfo=None)  # stored as naive UTC, as UtcDateTime does
    op.execute(sa.text("UPDATE outbox SET relayed_at = :now").bindparams(now=now))


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_relayed_at_occurred_at_id"))
        batch_op.drop_column("relayed_at")
        batch_op.add_column(sa.Column("published_at", UTC_DATETIME, nullable=True))
        batch_op.create_index(batch_op.f("ix_outbox_published_at"), ["published_at"], unique=False)
