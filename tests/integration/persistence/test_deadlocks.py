"""Two transactions locking rows in opposite orders: the database gives one up, and the
connection says so as ``ConcurrentWrite`` (PostgreSQL's 40P01, MySQL's 1213), the error
a use case may run its unit again on. SQLite admits one writer at a time: it cannot
deadlock, so only the servers are asked."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.connection import Transaction
from adapters.persistence.kernel import sequences
from talia_core.shared.errors import ConcurrentWrite
from tests.conftest import Engines
from tests.databases import empty_tables


@pytest.fixture(params=["postgresql", "mysql"])
async def server(request: pytest.FixtureRequest, engines: Engines) -> AsyncIterator[AsyncEngine]:
    engine = await engines.get(request.param)
    yield engine
    await empty_tables(engine)


async def test_a_deadlock_is_a_concurrent_write_and_the_other_transaction_commits(
    server: AsyncEngine,
) -> None:
    async with server.begin() as connection:
        await connection.execute(
            sequences.insert(), [{"name": "a", "value": 1}, {"name": "b", "value": 1}]
        )
    both_hold_one = asyncio.Barrier(2)

    async def take(first: str, then: str) -> None:
        async with server.connect() as connection:
            tx = Transaction(connection)
            await tx.execute(sequences.update().where(sequences.c.name == first).values(value=2))
            await both_hold_one.wait()
            await tx.execute(sequences.update().where(sequences.c.name == then).values(value=3))
            await connection.commit()

    results = await asyncio.gather(take("a", "b"), take("b", "a"), return_exceptions=True)

    assert sorted(type(result).__name__ for result in results) == ["ConcurrentWrite", "NoneType"]
    [given_up] = [result for result in results if isinstance(result, ConcurrentWrite)]
    assert (given_up.service, given_up.retry_after_seconds) == ("database", 1)
    async with server.connect() as connection:
        values = (await connection.execute(sa.select(sequences.c.value))).scalars().all()
    assert sorted(values) == [2, 3]
