"""The knowledge base's tables and repositories, bound by one bundle.

Documents, their chunks and the chunks' vectors (``tables``); documents unique per content
hash in a collection (``documents``); chunks replaced a document at a time and searched by
each database's full-text engine (``chunks``, ``lexical``, on SQLite ``fts5``); vectors per
embedding model, searched exactly (``vectors``, over the copies each process keeps in
``matrix`` while ``generations`` say they are current; inside the database on PostgreSQL
with pgvector, ``pgvector``). In a writing unit of work ``documents.get`` locks the
document it reads (``FOR UPDATE``).
"""

from __future__ import annotations

from adapters.persistence.bundle import RepositoryBundle, bound, repository
from adapters.persistence.knowledge.chunks import SqlAlchemyChunkRepository
from adapters.persistence.knowledge.documents import SqlAlchemyDocumentRepository
from adapters.persistence.knowledge.pgvector import PgvectorVectorRepository
from adapters.persistence.knowledge.vectors import SqlAlchemyVectorRepository


class KnowledgeRepositories(RepositoryBundle):
    documents = bound(SqlAlchemyDocumentRepository, locks=True)
    chunks = bound(SqlAlchemyChunkRepository)
    vectors = repository(
        lambda tx, _: (
            PgvectorVectorRepository if tx.dialect == "postgresql" else SqlAlchemyVectorRepository
        )(tx)
    )
