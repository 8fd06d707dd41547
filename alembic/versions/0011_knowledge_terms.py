"""knowledge: the Spanish stems of each chunk (``terms``), which SQLite's FTS5 and MariaDB's
FULLTEXT index instead of the words as written

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 07:45:00.000000

The column may be NULL only so that it can be added to a table with rows (a default would
not do on MySQL, whose TEXT columns take none): the terms of the chunks already there are
written by this migration, with the stemmer the
application uses (``adapters.spanish``). On SQLite the FTS5 table, its view and triggers
are made again over the terms, and the index rebuilt; on MySQL and MariaDB the FULLTEXT
index moves to the terms. PostgreSQL keeps its Spanish ``tsvector``.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

from adapters import spanish

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LONG_TEXT = sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")
BATCH = 500


# The FTS5 index reads its content through a view that adds each chunk's collection as
# one token (its name's UTF-8 in hex), so a search matches the collection in the index.
SQLITE_BY_TERMS = (
    "CREATE VIEW knowledge_chunks_search AS SELECT rowid AS chunk_rowid, terms, "
    "hex(collection) AS collection_key FROM knowledge_chunks",
    "CREATE VIRTUAL TABLE knowledge_chunks_fts USING fts5(terms, collection_key, "
    "content='knowledge_chunks_search', content_rowid='chunk_rowid', "
    "tokenize='unicode61 remove_diacritics 2')",
    """CREATE TRIGGER knowledge_chunks_fts_insert AFTER INSERT ON knowledge_chunks BEGIN
        INSERT INTO knowledge_chunks_fts(rowid, terms, collection_key)
        VALUES (new.rowid, new.terms, hex(new.collection));
    END""",
    """CREATE TRIGGER knowledge_chunks_fts_delete AFTER DELETE ON knowledge_chunks BEGIN
        INSERT INTO knowledge_chunks_fts(knowledge_chunks_fts, rowid, terms, collection_key)
        VALUES ('delete', old.rowid, old.terms, hex(old.collection));
    END""",
    """CREATE TRIGGER knowledge_chunks_fts_update AFTER UPDATE ON knowledge_chunks BEGIN
        INSERT INTO knowledge_chunks_fts(knowledge_chunks_fts, rowid, terms, collection_key)
        VALUES ('delete', old.rowid, old.terms, hex(old.collection));
        INSERT INTO knowledge_chunks_fts(rowid, terms, collection_key)
        VALUES (new.rowid, new.terms, hex(new.collection));
    END""",
    "INSERT INTO knowledge_chunks_fts(knowledge_chunks_fts) VALUES ('rebuild')",
)
# As revision 0008 made it.
SQLITE_BY_WORDS = (
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
    "INSERT INTO knowledge_chunks_fts(knowledge_chunks_fts) VALUES ('rebuild')",
)
SQLITE_DROP = (
    "DROP TRIGGER knowledge_chunks_fts_insert",
    "DROP TRIGGER knowledge_chunks_fts_delete",
    "DROP TRIGGER knowledge_chunks_fts_update",
    "DROP TABLE knowledge_chunks_fts",
    "DROP VIEW knowledge_chunks_search",
)
MYSQL_BY_TERMS = (
    "DROP INDEX ft_knowledge_chunks_text_section ON knowledge_chunks",
    "CREATE FULLTEXT INDEX ft_knowledge_chunks_terms ON knowledge_chunks (terms)",
)
MYSQL_BY_WORDS = (
    "DROP INDEX ft_knowledge_chunks_terms ON knowledge_chunks",
    "CREATE FULLTEXT INDEX ft_knowledge_chunks_text_section ON knowledge_chunks (text, section)",
)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in SQLITE_DROP:
            op.execute(statement)
    op.add_column("knowledge_chunks", sa.Column("terms", LONG_TEXT, nullable=True))
    _write_terms()
    if dialect == "sqlite":
        for statement in SQLITE_BY_TERMS:
            op.execute(statement)
    elif dialect != "postgresql":
        for statement in MYSQL_BY_TERMS:
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in SQLITE_DROP:
            op.execute(statement)
    elif dialect != "postgresql":
        for statement in MYSQL_BY_WORDS:
            op.execute(statement)
    # Not in batch mode on SQLite: copying the table would drop the old one, and its
    # vectors with it (foreign keys cascade); SQLite drops a column in place since 3.35.
    op.execute("ALTER TABLE knowledge_chunks DROP COLUMN terms")
    if dialect == "sqlite":
        for statement in SQLITE_BY_WORDS:
            op.execute(statement)


def _write_terms() -> None:
    """The terms of every chunk, a batch at a time in the order of their ids."""
    bind = op.get_bind()
    chunks = sa.table(
        "knowledge_chunks",
        sa.column("id", sa.String),
        sa.column("section", sa.Text),
        sa.column("text", sa.Text),
        sa.column("terms", sa.Text),
    )
    after = ""
    while True:
        rows = bind.execute(
            sa.select(chunks.c.id, chunks.c.section, chunks.c.text)
            .where(chunks.c.id > after)
            .order_by(chunks.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        for row in rows:
            bind.execute(
                chunks.update()
                .where(chunks.c.id == row.id)
                .values(terms=spanish.terms(f"{row.section}\n{row.text}"))
            )
        after = rows[-1].id
