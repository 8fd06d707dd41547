"""scheduling: appointments, and the local calendar's events and slot claims

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 08:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The column type of UtcDateTime as this revision created it, frozen here so the migration
# never changes with the application's code.
UTC_DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "appointments",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("calendar_id", sa.String(length=64), nullable=False),
        sa.Column("starts_at", UTC_DATETIME, nullable=False),
        sa.Column("ends_at", UTC_DATETIME, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("contact_id", sa.String(length=36), nullable=True),
        sa.Column("customer_name", sa.String(length=120), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("booked_by", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("confirmed_at", UTC_DATETIME, nullable=True),
        sa.Column("cancelled_at", UTC_DATETIME, nullable=True),
        sa.Column("cancelled_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointments")),
    )
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_appointments_contact_id"), ["contact_id"])
        batch_op.create_index("ix_appointments_starts_at", ["starts_at"])

    op.create_table(
        "calendar_events",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("calendar_id", sa.String(length=64), nullable=False),
        sa.Column("appointment_id", sa.String(length=36), nullable=True),
        sa.Column("starts_at", UTC_DATETIME, nullable=False),
        sa.Column("ends_at", UTC_DATETIME, nullable=False),
        sa.Column("summary", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("cancelled", sa.Boolean(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_events")),
        sa.UniqueConstraint("appointment_id", name=op.f("uq_calendar_events_appointment_id")),
    )
    with op.batch_alter_table("calendar_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_calendar_events_calendar_id_starts_at", ["calendar_id", "starts_at"]
        )

    # One row per 5-minute cell of booked time: overlapping bookings collide on the key.
    op.create_table(
        "calendar_claims",
        sa.Column("calendar_id", sa.String(length=64), nullable=False),
        sa.Column("cell", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["calendar_events.id"],
            name=op.f("fk_calendar_claims_event_id_calendar_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("calendar_id", "cell", name=op.f("pk_calendar_claims")),
    )
    with op.batch_alter_table("calendar_claims", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_calendar_claims_event_id"), ["event_id"])


def downgrade() -> None:
    op.drop_table("calendar_claims")
    op.drop_table("calendar_events")
    op.drop_table("appointments")
