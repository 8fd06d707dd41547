"""a message's text kept whole: MEDIUMTEXT on MySQL and MariaDB, whose TEXT holds 64 KiB

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 14:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# PostgreSQL's and SQLite's TEXT have no such limit: nothing changes there.
_MYSQL = ("mysql", "mariadb")


def upgrade() -> None:
    if op.get_bind().dialect.name in _MYSQL:
        op.alter_column("messages", "text", existing_type=sa.Text(), type_=mysql.MEDIUMTEXT())


def downgrade() -> None:
    """Refused by MySQL and MariaDB (strict mode) while a message's text is over 64 KiB."""
    if op.get_bind().dialect.name in _MYSQL:
        op.alter_column("messages", "text", existing_type=mysql.MEDIUMTEXT(), type_=sa.Text())
