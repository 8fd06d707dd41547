"""On PostgreSQL every table has row-level security with no policy: Supabase's API roles,
granted every table as Supabase grants them, read nothing and write nothing, while Talia,
connected as the tables' owner, works as before."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWork
from talia_core.shared.jobs import Job
from tests.conftest import Engines
from tests.databases import empty_tables

SUPABASE_API_ROLES = ("anon", "authenticated")


@pytest.fixture
async def postgres(engines: Engines) -> AsyncIterator[AsyncEngine]:
    engine = await engines.get("postgresql")
    async with engine.begin() as connection:
        for role in SUPABASE_API_ROLES:
            await _grant_like_supabase(connection, role)
    yield engine
    await empty_tables(engine)


async def _grant_like_supabase(connection: AsyncConnection, role: str) -> None:
    """The role (made once per server, whoever makes it first) with every right on every
    table of the schema, as Supabase's default privileges give ``anon`` and ``authenticated``."""
    await connection.exec_driver_sql(
        f"DO $$ BEGIN CREATE ROLE {role} NOLOGIN; "
        "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
    )
    schema = (await connection.exec_driver_sql("SELECT current_schema()")).scalar_one()
    await connection.exec_driver_sql(f'GRANT USAGE ON SCHEMA "{schema}" TO {role}')
    await connection.exec_driver_sql(
        f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "{schema}" TO {role}'
    )


async def test_every_table_has_row_level_security(postgres: AsyncEngine) -> None:
    async with postgres.connect() as connection:
        open_tables = await connection.exec_driver_sql(
            "SELECT tablename FROM pg_tables "
            "WHERE schemaname = current_schema() AND NOT rowsecurity ORDER BY tablename"
        )
        assert open_tables.scalars().all() == []


@pytest.mark.parametrize("role", SUPABASE_API_ROLES)
async def test_supabase_api_roles_read_nothing_and_write_nothing(
    postgres: AsyncEngine, role: str
) -> None:
    async with SqlAlchemyUnitOfWork(postgres) as uow:
        await uow.jobs.add(Job.new("reports.daily", {}, at=datetime(2026, 1, 1, tzinfo=UTC)))
        await uow.commit()

    async with postgres.connect() as connection:
        await connection.exec_driver_sql(f"SET LOCAL ROLE {role}")
        seen = await connection.exec_driver_sql("SELECT count(*) FROM jobs")
        assert seen.scalar_one() == 0
        deleted = await connection.exec_driver_sql("DELETE FROM jobs")
        assert deleted.rowcount == 0
        with pytest.raises(sa.exc.DBAPIError, match="row-level security"):
            await connection.exec_driver_sql(
                "INSERT INTO jobs (id, kind, payload, run_at, created_at, status, attempts) "
                "VALUES ('x', 'mallory', '{}', now(), now(), 'pending', 0)"
            )

    async with postgres.connect() as connection:
        owner_sees = await connection.exec_driver_sql("SELECT count(*) FROM jobs")
        assert owner_sees.scalar_one() == 1
