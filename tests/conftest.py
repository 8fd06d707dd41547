"""Fixtures every test package shares."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from functools import partial

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.memory.database import InMemoryDatabase
from adapters.memory.unit_of_work import InMemoryUnitOfWork
from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWork
from tests.databases import PGVECTOR, WITH_PGBOUNCER, empty_tables, fresh_engine


class Engines:
    """One migrated engine per backend for the whole session, made on first use."""

    def __init__(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        self._tmp = tmp_path_factory
        self._engines: dict[str, AsyncEngine] = {}

    async def get(self, backend: str, url: str | None = None) -> AsyncEngine:
        if backend not in self._engines:
            tmp_dir = str(self._tmp.mktemp(backend))
            self._engines[backend] = await fresh_engine(backend, tmp_dir, url)
        return self._engines[backend]

    async def of(self, request: pytest.FixtureRequest, backend: str) -> AsyncEngine:
        """The engine of ``backend``, starting PostgreSQL with pgvector when it is that."""
        url = request.getfixturevalue("pgvector_url") if backend == PGVECTOR else None
        return await self.get(backend, url)

    async def dispose(self) -> None:
        for engine in self._engines.values():
            await engine.dispose()


@pytest.fixture(scope="session")
async def engines(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Engines]:
    cache = Engines(tmp_path_factory)
    yield cache
    await cache.dispose()


@pytest.fixture(params=WITH_PGBOUNCER)
async def engine(request: pytest.FixtureRequest, engines: Engines) -> AsyncIterator[AsyncEngine]:
    """A migrated database on each backend, emptied after each test."""
    engine = await engines.get(request.param)
    yield engine
    await empty_tables(engine)


UowFactory = Callable[..., SqlAlchemyUnitOfWork | InMemoryUnitOfWork]


@pytest.fixture(params=["memory", *WITH_PGBOUNCER])
async def uow_factory(
    request: pytest.FixtureRequest, engines: Engines
) -> AsyncIterator[UowFactory]:
    """Units of work of the fake and of every real database: the contract suites run on all.

    A suite may add ``PGVECTOR`` to these (``indirect`` parametrization).
    """
    if request.param == "memory":
        database = InMemoryDatabase()
        yield partial(InMemoryUnitOfWork, database)
        return
    engine = await engines.of(request, request.param)
    yield partial(SqlAlchemyUnitOfWork, engine)
    await empty_tables(engine)
