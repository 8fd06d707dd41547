"""rsvp: an invitation's guests (a link each) and their answers, one per guest or contact

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 09:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The column types as this revision created them, frozen here so the migration never
# changes with the application's code.
UTC_DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "invitation_guests",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("invitation_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("allowance", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=43), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["invitation_id"],
            ["invitations.id"],
            name=op.f("fk_invitation_guests_invitation_id_invitations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitation_guests")),
        sa.UniqueConstraint("token", name=op.f("uq_invitation_guests_token")),
    )
    with op.batch_alter_table("invitation_guests", schema=None) as batch_op:
        batch_op.create_index(
            "ix_invitation_guests_invitation_id_created_at", ["invitation_id", "created_at"]
        )
    op.create_table(
        "invitation_answers",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("invitation_id", sa.String(length=36), nullable=False),
        sa.Column("guest_id", sa.String(length=36), nullable=True),
        sa.Column("contact_key", sa.String(length=260), nullable=True),
        sa.Column("attending", sa.Boolean(), nullable=False),
        sa.Column("party_size", sa.Integer(), nullable=False),
        sa.Column("names", sa.JSON(), nullable=False),
        sa.Column("dietary", sa.String(length=500), nullable=True),
        sa.Column("message", sa.String(length=2000), nullable=True),
        sa.Column("contact", sa.String(length=254), nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["guest_id"],
            ["invitation_guests.id"],
            name=op.f("fk_invitation_answers_guest_id_invitation_guests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["invitation_id"],
            ["invitations.id"],
            name=op.f("fk_invitation_answers_invitation_id_invitations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitation_answers")),
        sa.UniqueConstraint("guest_id", name=op.f("uq_invitation_answers_guest_id")),
        sa.UniqueConstraint(
            "invitation_id",
            "contact_key",
            name=op.f("uq_invitation_answers_invitation_id_contact_key"),
        ),
    )
    with op.batch_alter_table("invitation_answers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_invitation_answers_invitation_id_created_at", ["invitation_id", "created_at"]
        )


def downgrade() -> None:
    op.drop_table("invitation_answers")
    op.drop_table("invitation_guests")
