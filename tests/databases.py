"""The databases integration tests run on: SQLite always, PostgreSQL and MariaDB when up.

URLs come from TALIA_TEST_POSTGRES_URL / TALIA_TEST_MYSQL_URL (set by .ci/run), with
local defaults. A server that cannot be reached skips its tests with the reason, except
in CI (CI=true), where it fails the run. PostgreSQL with pgvector (``PGVECTOR``) is a
server the suites that ask for it start themselves (the ``pgvector_url`` fixture). Run by
several pytest-xdist workers, each worker has a database of its own on each server,
``<name>_<worker>``, made anew when it starts.

``PGBOUNCER`` is PostgreSQL through a PgBouncer in transaction mode at
TALIA_TEST_PGBOUNCER_URL (no default: .ci/run starts one), as Supabase's pooler serves it:
the engine is built with the transaction pooler setting, on a database of its own,
``<name>_pgbouncer[_<worker>]``, made and migrated on the direct PostgreSQL URL.
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
PGBOUNCER_URL = os.environ.get("TALIA_TEST_PGBOUNCER_URL")
BACKENDS = ["sqlite", "postgresql", "mysql"]
PGVECTOR = "postgresql-pgvector"
PGBOUNCER = "pgbouncer"
# The suites that run through PgBouncer too: the repositories' contracts, and the flows
# whose transactions matter most (the README's "Supabase and other poolers").
WITH_PGBOUNCER = [*BACKENDS, PGBOUNCER]


def unavailable(what: str, error: BaseException) -> NoReturn:
    missing(f"{what} is not reachable ({type(error).__name__}: {error})")


def url_for(backend: str, tmp_dir: str) -> str:
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_dir}/talia-test.db"
    return SERVER_URLS[backend]


def _worker_database(url: str) -> str | None:
    """The database of this pytest-xdist worker on the server at ``url``, if it is one."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    return f"{sa.make_url(url).database}_{worker}" if worker else None


async def _recreate(url: str, database: str) -> None:
    """Drop and create ``database`` on the server at ``url``, from its maintenance database."""
    server = sa.make_url(url)
    maintenance = "postgres" if server.get_backend_name() == "postgresql" else None
    admin = create_database_engine(
        server.set(database=maintenance).render_as_string(hide_password=False)
    ).execution_options(isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            if server.get_backend_name() == "postgresql":
                await connection.exec_driver_sql(
                    f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'
                )
                await connection.exec_driver_sql(f'CREATE DATABASE "{database}"')
            else:
                await connection.exec_driver_sql(f"DROP DATABASE IF EXISTS `{database}`")
                await connection.exec_driver_sql(
                    f"CREATE DATABASE `{database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
                )
    finally:
        await admin.dispose()


def database_settings(url: str) -> dict[str, str]:
    """The app's database settings for ``url``: a pooler in transaction mode through PgBouncer."""
    if PGBOUNCER_URL is not None and _address(url) == _address(PGBOUNCER_URL):
        return {"url": url, "pooler": "transaction"}
    return {"url": url}


def another_engine(engine: AsyncEngine) -> AsyncEngine:
    """Another engine on ``engine``'s database, built as the backend's is: another process."""
    url = engine.url.render_as_string(hide_password=False)
    return create_database_engine(url, transaction_pooler="pooler" in database_settings(url))


def _address(url: str) -> tuple[str | None, int | None]:
    parsed = sa.make_url(url)
    return parsed.host, parsed.port


async def _pgbouncer_engine() -> AsyncEngine:
    if PGBOUNCER_URL is None:
        missing("PgBouncer: TALIA_TEST_PGBOUNCER_URL is not set (.ci/run starts one)")
    pooled = sa.make_url(PGBOUNCER_URL)
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    database = f"{pooled.database}_pgbouncer" + (f"_{worker}" if worker else "")
    direct = sa.make_url(SERVER_URLS["postgresql"]).set(database=database)
    try:
        await _recreate(direct.render_as_string(hide_password=False), database)
    except (OSError, sa.exc.DBAPIError) as error:
        unavailable("postgresql", error)
    migrating = create_database_engine(direct.render_as_string(hide_password=False))
    try:
        await migrations.upgrade(migrating)
    finally:
        await migrating.dispose()
    engine = create_database_engine(
        pooled.set(database=database).render_as_string(hide_password=False),
        pool_size=20,
        transaction_pooler=True,
    )
    try:
        async with engine.connect() as connection:
            await connection.execute(sa.text("SELECT 1"))
    except (OSError, sa.exc.DBAPIError) as error:
        await engine.dispose()
        unavailable("PgBouncer", error)
    return engine


async def fresh_engine(backend: str, tmp_dir: str, url: str | None = None) -> AsyncEngine:
    """An engine on an empty database migrated to head (at ``url`` when given)."""
    if backend == PGBOUNCER:
        return await _pgbouncer_engine()
    url = url or url_for(backend, tmp_dir)
    try:
        if backend in SERVER_URLS and (database := _worker_database(url)):
            await _recreate(url, database)
            url = sa.make_url(url).set(database=database).render_as_string(hide_password=False)
    except (OSError, sa.exc.DBAPIError) as error:
        unavailable(backend, error)
    engine = create_database_engine(url, pool_size=20)
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
