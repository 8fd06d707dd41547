"""The databases integration tests run on: SQLite always, PostgreSQL and MariaDB when up.

URLs come from TALIA_TEST_POSTGRES_URL / TALIA_TEST_MYSQL_URL (set by .ci/run), with
local defaults. A server that cannot be reached skips its tests with the reason, except
in CI (CI=true), where it fails the run. PostgreSQL with pgvector (``PGVECTOR``) is a
server the suites that ask for it start themselves (the ``pgvector_url`` fixture).
"""

from __future__ import annotations

import os
from typing import NoReturn

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence import migrations
from adapters.persistence.engine import create_database_engine
from adapters.persistence.knowledge.tables import PGVECTOR_TABLE
from adapters.persistence.schema import metadata
from tests.prerequisites import missing

SERVER_URLS = {
    "postgresql": os.environ.get(
        "TALIA_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/talia_test"
    ),
    "mysql": os.environ.get(
        "TALIA_TEST_MYSQL_URL", "mysql+asyncmy://root@127.0.0.1:3306/talia_test"
    ),
}
BACKENDS = ["sqlite", "postgresql", "mysql"]
PGVECTOR = "postgresql-pgvector"


def unavailable(what: str, error: BaseException) -> NoReturn:
    missing(f"{what} is not reachable ({type(error).__name__}: {error})")


def url_for(backend: str, tmp_dir: str) -> str:
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_dir}/talia-test.db"
    return SERVER_URLS[backend]


async def fresh_engine(backend: str, tmp_dir: str, url: str | None = None) -> AsyncEngine:
    """An engine on an empty database migrated to head (at ``url`` when given)."""
    engine = create_database_engine(url or url_for(backend, tmp_dir), pool_size=20)
    try:
        async with engine.begin() as connection:
            # Made by a migration on PostgreSQL with pgvector, it refers to a table of metadata.
            await connection.execute(sa.text(f"DROP TABLE IF EXISTS {PGVECTOR_TABLE}"))
            await connection.run_sync(metadata.drop_all)
            await connection.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
    except (OSError, sa.exc.DBAPIError) as error:
        await engine.dispose()
        unavailable(backend, error)
    await migrations.upgrade(engine)
    return engine


async def empty_tables(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            await connection.execute(table.delete())
