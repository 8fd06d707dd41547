"""knowledge: vectors searched by pgvector on PostgreSQL servers that have it

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 05:40:00.000000

On PostgreSQL whose server offers the ``vector`` extension (pgvector 0.7 or later), the
extension is created when the database lacks it and the role may create it, and
``knowledge_pgvector`` holds every vector of ``knowledge_vectors`` again, at unit length,
as a pgvector ``vector`` of any size beside its chunk's collection, gone with it; the
vectors already stored are copied from their float32 bytes. Anywhere else (SQLite,
MySQL/MariaDB, PostgreSQL without pgvector) nothing changes and vectors are searched in
Python. A server that gains pgvector later gets the table by migrating down to 0008 and up
again. The table is not in the table definitions: the drift check leaves it alone
(``is_search_machinery``).
"""

import sys
from array import array
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.engine import Connection

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "knowledge_pgvector"
CREATE = f"""CREATE TABLE {TABLE} (
    chunk_id VARCHAR(36) NOT NULL,
    model VARCHAR(200) NOT NULL,
    collection VARCHAR(64) NOT NULL,
    embedding vector NOT NULL,
    CONSTRAINT pk_{TABLE} PRIMARY KEY (chunk_id, model),
    CONSTRAINT fk_{TABLE}_knowledge_vectors FOREIGN KEY (chunk_id, model)
        REFERENCES knowledge_vectors (chunk_id, model) ON DELETE CASCADE
)"""
# A search reads the vectors of its collections only, however many others there are.
INDEX = f"CREATE INDEX ix_{TABLE}_collection_model ON {TABLE} (collection, model)"
COPY = sa.text(
    "INSERT INTO knowledge_pgvector (chunk_id, model, collection, embedding) "
    "SELECT id, :model, collection, l2_normalize(CAST(CAST(:embedding AS real[]) AS vector)) "
    "FROM knowledge_chunks WHERE id = :chunk_id"
)
NEXT = sa.text(
    "SELECT chunk_id, model, vector FROM knowledge_vectors "
    "WHERE (chunk_id, model) > (:chunk_id, :model) ORDER BY chunk_id, model LIMIT :batch"
)
# l2_normalize came with pgvector 0.7.0.
SINCE = (0, 7)
BATCH = 1000


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql" or not _with_pgvector(bind):
        return
    op.execute(CREATE)
    op.execute(INDEX)
    # Page by key rather than through a server-side cursor, which would stay open in the
    # migrations' transaction and keep later ones from altering the table.
    after = ("", "")
    while rows := bind.execute(
        NEXT, {"chunk_id": after[0], "model": after[1], "batch": BATCH}
    ).all():
        bind.execute(
            COPY,
            [
                {"chunk_id": r.chunk_id, "model": r.model, "embedding": _floats(r.vector)}
                for r in rows
            ],
        )
        after = (rows[-1].chunk_id, rows[-1].model)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TABLE IF EXISTS {TABLE}")


def _with_pgvector(bind: Connection) -> bool:
    """Whether the database has the extension, creating it when the server offers it."""
    offered = bind.execute(
        sa.text(
            "SELECT default_version, installed_version FROM pg_available_extensions "
            "WHERE name = 'vector'"
        )
    ).first()
    if offered is None or _version(offered.installed_version or offered.default_version) < SINCE:
        return False
    if offered.installed_version is None:
        try:
            with bind.begin_nested():
                bind.execute(sa.text("CREATE EXTENSION vector"))
        except sa.exc.DBAPIError:  # a role that may not create extensions
            return False
    return True


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".")[:2] if part.isdigit())


def _floats(data: bytes) -> list[float]:
    """The float32 little-endian values the vector was stored as."""
    values = array("f")
    values.frombytes(data)
    if sys.byteorder == "big":
        values.byteswap()
    return values.tolist()
