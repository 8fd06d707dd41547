"""knowledge: a generation token per collection, replaced by every write to its chunks or
vectors, so that processes know when their copy of its vectors is current

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 06:30:00.000000

Each collection that holds chunks already gets a first token, one made for this run of the
migration (never one a process may have seen before).
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "knowledge_generations",
        sa.Column("collection", sa.String(length=64), nullable=False),
        sa.Column("token", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("collection", name=op.f("pk_knowledge_generations")),
    )
    op.execute(
        sa.text(
            "INSERT INTO knowledge_generations (collection, token) "
            "SELECT DISTINCT collection, :token FROM knowledge_chunks"
        ).bindparams(token=str(uuid.uuid4()))
    )


def downgrade() -> None:
    op.drop_table("knowledge_generations")
