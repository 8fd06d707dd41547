"""voice notes and photos put into words; assistants that answer voice with voice

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 10:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("transcript", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("understanding", sa.String(length=16), nullable=True))
    with op.batch_alter_table("assistant_versions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("voice_replies", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("voice", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("assistant_versions", schema=None) as batch_op:
        batch_op.drop_column("voice")
        batch_op.drop_column("voice_replies")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("understanding")
        batch_op.drop_column("transcript")
