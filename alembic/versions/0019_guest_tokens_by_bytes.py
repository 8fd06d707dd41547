"""guest tokens compared byte for byte on MySQL/MariaDB

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 10:40:00.000000

A guest's token is base64url: two tokens may differ only by case. MySQL/MariaDB's default
collation compares text without case, so a link with a token written in another case found
the guest; the column now compares bytes (``ascii_bin``), as short URLs' codes do. SQLite
and PostgreSQL already compare bytes: nothing changes there.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The column types, frozen here so the migration never changes with the application's code.
TOKEN = sa.String(length=43)
TOKEN_BY_BYTES = mysql.VARCHAR(43, charset="ascii", collation="ascii_bin")


def _on_mysql() -> bool:
    return op.get_bind().dialect.name in {"mysql", "mariadb"}


def upgrade() -> None:
    if _on_mysql():
        op.alter_column(
            "invitation_guests",
            "token",
            existing_type=TOKEN,
            type_=TOKEN_BY_BYTES,
            existing_nullable=False,
        )


def downgrade() -> None:
    if _on_mysql():
        op.alter_column(
            "invitation_guests",
            "token",
            existing_type=TOKEN_BY_BYTES,
            type_=TOKEN,
            existing_nullable=False,
        )
