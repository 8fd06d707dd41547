"""leads: one lead per contact and business line, every change of each, and the lead
criteria an assistant definition may hold

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 08:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The column types as this revision created them, frozen here so the migration never
# changes with the application's code.
UTC_DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
POSITION = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "leads",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("contact_id", sa.String(length=36), nullable=False),
        sa.Column("business_line", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("first_contact_at", UTC_DATETIME, nullable=False),
        sa.Column("last_contact_at", UTC_DATETIME, nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("owner_id", sa.String(length=36), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leads")),
        sa.UniqueConstraint(
            "contact_id", "business_line", name=op.f("uq_leads_contact_id_business_line")
        ),
    )
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.create_index("ix_leads_stage_last_contact_at", ["stage", "last_contact_at"])
        batch_op.create_index("ix_leads_last_contact_at", ["last_contact_at"])
        batch_op.create_index("ix_leads_score", ["score"])
        batch_op.create_index("ix_leads_owner_id", ["owner_id"])
    op.create_table(
        "lead_events",
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("applied_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_lead_events")),
    )
    op.create_table(
        "lead_history",
        sa.Column("position", POSITION, autoincrement=True, nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("lead_id", sa.String(length=36), nullable=False),
        sa.Column("at", UTC_DATETIME, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("cause", sa.String(length=16), nullable=False),
        sa.Column("by", sa.String(length=100), nullable=True),
        sa.Column("field", sa.String(length=40), nullable=True),
        sa.Column("before", sa.Text(), nullable=True),
        sa.Column("after", sa.Text(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name=op.f("fk_lead_history_lead_id_leads")
        ),
        sa.PrimaryKeyConstraint("position", name=op.f("pk_lead_history")),
        sa.UniqueConstraint("id", name=op.f("uq_lead_history_id")),
    )
    with op.batch_alter_table("lead_history", schema=None) as batch_op:
        batch_op.create_index("ix_lead_history_lead_id_position", ["lead_id", "position"])
    with op.batch_alter_table("assistant_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("leads", sa.JSON(none_as_null=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("assistant_versions", schema=None) as batch_op:
        batch_op.drop_column("leads")
    op.drop_table("lead_history")
    op.drop_table("lead_events")
    op.drop_table("leads")
