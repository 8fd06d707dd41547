"""Tables of the knowledge base, and the full-text machinery each dialect adds to them.

``knowledge_documents`` holds one row per document, unique per (collection, content_hash).
``knowledge_chunks`` hold their passages (gone with their document) and repeat the
collection so that searches filter on it without a join. ``knowledge_vectors`` hold one
vector per chunk and embedding model (gone with their chunk): float32 little-endian bytes.
``knowledge_generations`` hold, per collection, a token every write to its chunks or vectors
replaces (``generations``): what tells a process that its copy of the vectors is current.

What the table definitions cannot say is written by the migration for each dialect, named
here so the schema drift check leaves it alone (``is_search_machinery``):

- SQLite: the FTS5 table ``knowledge_chunks_fts`` over (terms, collection_key), an
  external-content index of ``knowledge_chunks`` by rowid read through the view
  ``knowledge_chunks_search``, kept in step by triggers (foreign-key cascades fire them
  too). The chunks table has indexes, so a VACUUM copies its rowids unchanged.
- PostgreSQL: the generated ``search`` column (a ``tsvector`` of the section and text in the
  ``spanish`` configuration, as written and with accents folded) and its GIN index.
- MySQL and MariaDB: a ``FULLTEXT`` index over ``terms``.
``terms`` holds the Spanish stems of a chunk's section and text (``adapters.spanish``),
written with the chunk: what SQLite and MariaDB, which do not stem Spanish, index.
- PostgreSQL with pgvector: ``knowledge_pgvector``, the vectors as pgvector ``vector``s
  (``pgvector``).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from adapters.persistence.metadata import UtcDateTime, id_column, metadata
from talia_core.knowledge.model import (
    MAX_COLLECTION_LENGTH,
    MAX_FILENAME_LENGTH,
    MAX_REASON_LENGTH,
    MAX_TITLE_LENGTH,
)

MAX_MODEL_LENGTH = 200
"""The longest embedding model name kept: a setting names it, and it names a vector space."""
FTS_TABLE = "knowledge_chunks_fts"
PGVECTOR_TABLE = "knowledge_pgvector"
SEARCH_COLUMN = "search"
SEARCH_INDEXES = frozenset({"ix_knowledge_chunks_search", "ft_knowledge_chunks_terms"})

# TEXT holds 64 KiB on MySQL and MariaDB; a chunk is far shorter, a table row may be long.
_LONG_TEXT = sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")

knowledge_documents = sa.Table(
    "knowledge_documents",
    metadata,
    id_column(primary_key=True),
    sa.Column("collection", sa.String(MAX_COLLECTION_LENGTH), nullable=False),
    sa.Column("title", sa.String(MAX_TITLE_LENGTH), nullable=False),
    sa.Column("filename", sa.String(MAX_FILENAME_LENGTH), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("content_hash", sa.String(64), nullable=False),
    id_column("uploaded_by", nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("reason", sa.String(MAX_REASON_LENGTH)),
    sa.Column("pages", sa.Integer, nullable=False),
    sa.Column("chunk_count", sa.Integer, nullable=False),
    sa.UniqueConstraint("collection", "content_hash"),
    # The listing, newest first, of every collection or one; the sweep of unsettled ones.
    sa.Index("ix_knowledge_documents_created_at", "created_at"),
    sa.Index("ix_knowledge_documents_collection_created_at", "collection", "created_at"),
    sa.Index("ix_knowledge_documents_status_updated_at", "status", "updated_at"),
)

knowledge_chunks = sa.Table(
    "knowledge_chunks",
    metadata,
    id_column(primary_key=True),
    id_column("document_id", nullable=False),
    sa.Column("collection", sa.String(MAX_COLLECTION_LENGTH), nullable=False, index=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("section", sa.Text, nullable=False),
    sa.Column("page", sa.Integer),
    sa.Column("text", _LONG_TEXT, nullable=False),
    # Written with every chunk; NULL only where the migration that added it has not run.
    sa.Column("terms", _LONG_TEXT),
    sa.ForeignKeyConstraint(["document_id"], ["knowledge_documents.id"], ondelete="CASCADE"),
    sa.Index("ix_knowledge_chunks_document_id_position", "document_id", "position"),
)

knowledge_vectors = sa.Table(
    "knowledge_vectors",
    metadata,
    id_column("chunk_id", nullable=False),
    sa.Column("model", sa.String(MAX_MODEL_LENGTH), nullable=False),
    sa.Column("dims", sa.Integer, nullable=False),
    sa.Column("vector", sa.LargeBinary, nullable=False),
    sa.PrimaryKeyConstraint("chunk_id", "model"),
    sa.ForeignKeyConstraint(["chunk_id"], ["knowledge_chunks.id"], ondelete="CASCADE"),
)

knowledge_generations = sa.Table(
    "knowledge_generations",
    metadata,
    sa.Column("collection", sa.String(MAX_COLLECTION_LENGTH), primary_key=True),
    id_column("token", nullable=False),
)


def is_search_machinery(name: str | None, type_: str, table: str | None) -> bool:
    """Whether a reflected object is full-text machinery the migration made on purpose."""
    if type_ == "table":
        return name is not None and name.startswith((FTS_TABLE, PGVECTOR_TABLE))
    if type_ == "column":
        return table == knowledge_chunks.name and name == SEARCH_COLUMN
    return type_ == "index" and name in SEARCH_INDEXES
