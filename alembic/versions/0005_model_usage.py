"""model usage: the calls of models, their prices, and a daily budget per assistant version

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 03:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The column types as this revision created them, frozen here so the migration never
# changes with the application's code.
UTC_DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "model_calls",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("at", UTC_DATETIME, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("assistant_id", sa.String(length=36), nullable=False),
        sa.Column("assistant_name", sa.String(length=64), nullable=False),
        sa.Column("assistant_version", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=36), nullable=True),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("input_tokens", sa.Integer(), nullable=False),
        sa.Column("output_tokens", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_calls")),
    )
    with op.batch_alter_table("model_calls", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_model_calls_day_assistant_name"), ["day", "assistant_name"], unique=False
        )

    op.create_table(
        "model_prices",
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("input_per_million", sa.BigInteger(), nullable=False),
        sa.Column("output_per_million", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("provider", "model", name=op.f("pk_model_prices")),
    )

    with op.batch_alter_table("assistant_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("daily_budget_amount", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("daily_budget_currency", sa.String(length=3), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("assistant_versions", schema=None) as batch_op:
        batch_op.drop_column("daily_budget_currency")
        batch_op.drop_column("daily_budget_amount")
    op.drop_table("model_prices")
    op.drop_table("model_calls")
