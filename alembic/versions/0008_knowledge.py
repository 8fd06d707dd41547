"""knowledge: documents, their chunks with each database's full-text index, and vectors

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 04:40:00.000000

Beyond the tables, each dialect gets its own full-text machinery (the table definitions
cannot say it, and the drift check leaves it alone):

- SQLite: an FTS5 external-content table over the chunks' rowids (with their
  collections), kept in step by triggers. A later migration that rebuilds
  ``knowledge_chunks`` in batch mode (copy and rename) drops the triggers with the old
  table: it must create them again and run the FTS5 ``rebuild`` command.
- PostgreSQL: a generated ``tsvector`` column and its GIN index.
- MySQL and MariaDB: a FULLTEXT index.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The column types as this revision created them, frozen here so the migration never
# changes with the application's code.
UTC_DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
LONG_TEXT = sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")

# Accented letters and what they fold to, for PostgreSQL's second, accent-free tsvector.
ACCENTED = "ÁÀÂÄÃÉÈÊËÍÌÎÏÓÒÔÖÕÚÙÛÜÑÇáàâäãéèêëíìîïóòôöõúùûüñç"
FOLDED = "AAAAAEEEEIIIIOOOOOUUUUNCaaaaaeeeeiiiiooooouuuunc"

# The FTS5 index reads its content through a view that adds each chunk's collection as
# one token (its name's UTF-8 in hex), so a search matches the collection in the index.
SQLITE_SEARCH = (
    "CREATE VIEW knowledge_chunks_search AS SELECT rowid AS chunk_rowid, text, section, "
    "hex(collection) AS collection_key FROM knowledge_chunks",
    "CREATE VIRTUAL TABLE knowledge_chunks_fts USING fts5(text, section, collection_key, "
    "content='knowledge_chunks_search', content_rowid='chunk_rowid', "
    "tokenize='unicode61 remove_diacritics 2')",
    """CREATE TRIGGER knowledge_chunks_fts_insert AFTER INSERT ON knowledge_chunks BEGIN
        INSERT INTO knowledge_chunks_fts(rowid, text, section, collection_key)
        VALUES (new.rowid, new.text, new.section, hex(new.collection));
    END""",
    """CREATE TRIGGER knowledge_chunks_fts_delete AFTER DELETE ON knowledge_chunks BEGIN
        INSERT INTO knowledge_chunks_fts(knowledge_chunks_fts, rowid, text, section, collection_key)
        VALUES ('delete', old.rowid, old.text, old.section, hex(old.collection));
    END""",
    """CREATE TRIGGER knowledge_chunks_fts_update AFTER UPDATE ON knowledge_chunks BEGIN
        INSERT INTO knowledge_chunks_fts(knowledge_chunks_fts, rowid, text, section, collection_key)
        VALUES ('delete', old.rowid, old.text, old.section, hex(old.collection));
        INSERT INTO knowledge_chunks_fts(rowid, text, section, collection_key)
        VALUES (new.rowid, new.text, new.section, hex(new.collection));
    END""",
)

_DOCUMENT = "section || ' ' || text"
POSTGRESQL_SEARCH = (
    "ALTER TABLE knowledge_chunks ADD COLUMN search tsvector GENERATED ALWAYS AS ("
    f"to_tsvector('spanish', {_DOCUMENT}) || "
    f"to_tsvector('spanish', translate({_DOCUMENT}, '{ACCENTED}', '{FOLDED}'))"
    ") STORED",
    "CREATE INDEX ix_knowledge_chunks_search ON knowledge_chunks USING gin (search)",
)

MYSQL_SEARCH = (
    "CREATE FULLTEXT INDEX ft_knowledge_chunks_text_section ON knowledge_chunks (text, section)",
)


def upgrade() -> None:
    op.create_table(
        "knowledge_documents",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("collection", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("uploaded_by", sa.String(length=36), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("chunk_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_documents")),
        sa.UniqueConstraint(
            "collection",
            "content_hash",
            name=op.f("uq_knowledge_documents_collection_content_hash"),
        ),
    )
    with op.batch_alter_table("knowledge_documents", schema=None) as batch_op:
        batch_op.create_index("ix_knowledge_documents_created_at", ["created_at"], unique=False)
        batch_op.create_index(
            "ix_knowledge_documents_collection_created_at",
            ["collection", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_knowledge_documents_status_updated_at", ["status", "updated_at"], unique=False
        )

    op.create_table(
        "knowledge_chunks",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("document_id", sa.String(length=36), nullable=False),
        sa.Column("collection", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("section", sa.Text(), nullable=False),
        sa.Column("page", sa.Integer(), nullable=True),
        sa.Column("text", LONG_TEXT, nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["knowledge_documents.id"],
            name=op.f("fk_knowledge_chunks_document_id_knowledge_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_chunks")),
    )
    with op.batch_alter_table("knowledge_chunks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_knowledge_chunks_collection"), ["collection"], unique=False
        )
        batch_op.create_index(
            "ix_knowledge_chunks_document_id_position", ["document_id", "position"], unique=False
        )

    op.create_table(
        "knowledge_vectors",
        sa.Column("chunk_id", sa.String(length=36), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("dims", sa.Integer(), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["chunk_id"],
            ["knowledge_chunks.id"],
            name=op.f("fk_knowledge_vectors_chunk_id_knowledge_chunks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("chunk_id", "model", name=op.f("pk_knowledge_vectors")),
    )

    search = {"sqlite": SQLITE_SEARCH, "postgresql": POSTGRESQL_SEARCH}
    for statement in search.get(op.get_bind().dialect.name, MYSQL_SEARCH):
        op.execute(statement)


def downgrade() -> None:
    # The vectors, chunks (with their triggers, generated column and indexes) and documents.
    op.drop_table("knowledge_vectors")
    op.drop_table("knowledge_chunks")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE knowledge_chunks_fts")
        op.execute("DROP VIEW knowledge_chunks_search")
    op.drop_table("knowledge_documents")
