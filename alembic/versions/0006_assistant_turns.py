"""assistant turns: the conversation's current assistant, who wrote a bot message, tool uses

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 03:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The column types as this revision created them, frozen here so the migration never
# changes with the application's code.
UTC_DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("assistant", sa.String(length=64), nullable=True))
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("author_version", sa.Integer(), nullable=True))
    op.create_table(
        "tool_uses",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("conversation_id", sa.String(length=36), nullable=False),
        sa.Column("at", UTC_DATETIME, nullable=False),
        sa.Column("assistant", sa.String(length=64), nullable=False),
        sa.Column("assistant_version", sa.Integer(), nullable=False),
        sa.Column("tool", sa.String(length=64), nullable=False),
        sa.Column("arguments", sa.Text(), nullable=False),
        sa.Column("output", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_tool_uses_conversation_id_conversations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tool_uses")),
    )
    with op.batch_alter_table("tool_uses", schema=None) as batch_op:
        batch_op.create_index(
            "ix_tool_uses_conversation_id_at", ["conversation_id", "at"], unique=False
        )


def downgrade() -> None:
    # Its index goes with the table (MySQL refuses to drop an index a foreign key uses).
    op.drop_table("tool_uses")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("author_version")
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_column("assistant")
