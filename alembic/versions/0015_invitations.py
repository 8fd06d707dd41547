"""invitations: one per unit of a paid order's item; a plan's allowances and a template's
field schema in the catalog

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The column types as this revision created them, frozen here so the migration never
# changes with the application's code.
UTC_DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.add_column(sa.Column("allowances", sa.JSON(none_as_null=True), nullable=True))
    with op.batch_alter_table("templates", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fields", sa.JSON(none_as_null=True), nullable=True))
    op.create_table(
        "invitations",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("owner_id", sa.String(length=36), nullable=False),
        sa.Column("order_id", sa.String(length=36), nullable=True),
        sa.Column("order_item", sa.String(length=80), nullable=True),
        sa.Column("template_id", sa.String(length=36), nullable=True),
        sa.Column("plan_id", sa.String(length=36), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("allowances", sa.JSON(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("slug", sa.String(length=60), nullable=True),
        sa.Column("published_at", UTC_DATETIME, nullable=True),
        sa.Column("expires_at", UTC_DATETIME, nullable=True),
        sa.Column("revoked_at", UTC_DATETIME, nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitations")),
        sa.UniqueConstraint(
            "order_id", "order_item", name=op.f("uq_invitations_order_id_order_item")
        ),
        sa.UniqueConstraint("slug", name=op.f("uq_invitations_slug")),
    )
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.create_index("ix_invitations_owner_id_created_at", ["owner_id", "created_at"])


def downgrade() -> None:
    op.drop_table("invitations")
    with op.batch_alter_table("templates", schema=None) as batch_op:
        batch_op.drop_column("fields")
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.drop_column("allowances")
