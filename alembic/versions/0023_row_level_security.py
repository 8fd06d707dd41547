"""row-level security on every table of PostgreSQL, with no policy: Supabase's API roles
(``anon``, ``authenticated``) read and write nothing, while the owner Talia connects as
is not subject to it

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 14:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every table of the schema Talia migrates, whatever made it: a table a later migration
# adds enables it there (the test of row-level security checks every table).
_EACH_TABLE = """
DO $$
DECLARE name text;
BEGIN
  FOR name IN SELECT tablename FROM pg_tables WHERE schemaname = current_schema() LOOP
    EXECUTE format('ALTER TABLE %I {action} ROW LEVEL SECURITY', name);
  END LOOP;
END $$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_EACH_TABLE.format(action="ENABLE"))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_EACH_TABLE.format(action="DISABLE"))
