"""assistant evals: eval sets, each version's last report, rejected candidates, the live
version apart from the newest

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 03:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The column types as this revision created them, frozen here so the migration never
# changes with the application's code.
UTC_DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    with op.batch_alter_table("assistants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("newest_version", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("require_eval", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    # Until now every version went live: the live one is the newest.
    op.execute("UPDATE assistants SET newest_version = version")
    with op.batch_alter_table("assistants", schema=None) as batch_op:
        batch_op.alter_column("newest_version", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("assistant_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("eval_passed", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("eval_failed", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("eval_at", UTC_DATETIME, nullable=True))
        batch_op.add_column(sa.Column("eval_set", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("eval_failing", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("rejected", sa.Text(), nullable=True))
    op.create_table(
        "assistant_eval_sets",
        sa.Column("assistant_id", sa.String(length=36), nullable=False),
        sa.Column("cases", sa.JSON(), nullable=False),
        sa.Column("updated_by", sa.String(length=36), nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["assistant_id"],
            ["assistants.id"],
            name=op.f("fk_assistant_eval_sets_assistant_id_assistants"),
        ),
        sa.PrimaryKeyConstraint("assistant_id", name=op.f("pk_assistant_eval_sets")),
    )


def downgrade() -> None:
    op.drop_table("assistant_eval_sets")
    # Rejected candidates never went live: without the columns that tell them apart they
    # would read as earlier versions, so they go.
    op.execute("DELETE FROM assistant_versions WHERE rejected IS NOT NULL")
    with op.batch_alter_table("assistant_versions", schema=None) as batch_op:
        batch_op.drop_column("rejected")
        batch_op.drop_column("eval_failing")
        batch_op.drop_column("eval_set")
        batch_op.drop_column("eval_at")
        batch_op.drop_column("eval_failed")
        batch_op.drop_column("eval_passed")
    with op.batch_alter_table("assistants", schema=None) as batch_op:
        batch_op.drop_column("require_eval")
        batch_op.drop_column("newest_version")
