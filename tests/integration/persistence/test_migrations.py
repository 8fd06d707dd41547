"""Migrations go up, down and up again on every database, and match the table definitions."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from adapters.persistence import migrations
from tests.conftest import Engines
from tests.databases import BACKENDS, PGVECTOR


async def _tables(engine: sa.ext.asyncio.AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        names = await connection.run_sync(lambda sync: sa.inspect(sync).get_table_names())
    return set(names) - {"alembic_version"}


@pytest.mark.parametrize("backend", [*BACKENDS, PGVECTOR])
async def test_migrations_round_trip_without_drift(
    backend: str, engines: Engines, request: pytest.FixtureRequest
) -> None:
    engine = await engines.of(request, backend)
    assert await migrations.drift(engine) == []
    assert await migrations.current_revision(engine) is not None

    await migrations.downgrade(engine, "base")
    assert await _tables(engine) == set()

    await migrations.upgrade(engine)
    assert await migrations.drift(engine) == []
    assert "claims" in await _tables(engine)
