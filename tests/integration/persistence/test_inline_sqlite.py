"""SQLite statements run on the event loop, and only a wait for another process's write lock
leaves it (for a thread)."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from adapters.persistence.engine import create_database_engine
from adapters.persistence.inline_sqlite import InlineSqlite


def _locked(path: Path) -> sqlite3.Connection:
    """Another process's writer, as SQLite sees it: a connection holding the write lock."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("PRAGMA journal_mode=WAL")
    other.execute("CREATE TABLE IF NOT EXISTS notes (text TEXT)")
    other.execute("BEGIN IMMEDIATE")
    return other


async def _ticks_while(task: asyncio.Task[object], seconds: float) -> int:
    ticks = 0
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        await asyncio.sleep(0.01)
        ticks += 1
    assert not task.done()
    return ticks


async def test_a_writer_waiting_for_another_writers_lock_leaves_the_event_loop_free(
    tmp_path: Path,
) -> None:
    path = tmp_path / "talia.db"
    other = _locked(path)
    engine = create_database_engine(f"sqlite+aiosqlite:///{path}")

    async def write() -> object:
        async with engine.begin() as connection:
            await connection.execute(sa.text("INSERT INTO notes VALUES ('mine')"))
        return True

    try:
        writing = asyncio.create_task(write())
        ticks = await _ticks_while(writing, 0.3)
        other.execute("INSERT INTO notes VALUES ('theirs')")
        other.execute("COMMIT")
        assert await asyncio.wait_for(writing, 5)
        async with engine.connect() as connection:
            notes = (await connection.execute(sa.text("SELECT text FROM notes"))).scalars()
            assert sorted(notes) == ["mine", "theirs"]
    finally:
        other.close()
        await engine.dispose()
    assert ticks >= 10  # about 30 at 10 ms each, had the loop never been blocked


async def test_a_writer_gives_up_after_the_busy_timeout_as_sqlite_would(tmp_path: Path) -> None:
    path = tmp_path / "talia.db"
    other = _locked(path)
    connection = InlineSqlite(str(path), busy_timeout_seconds=0.2)
    try:
        cursor = connection.cursor()
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            await cursor.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        await cursor.execute("BEGIN IMMEDIATE")
        await cursor.execute("INSERT INTO notes VALUES ('at last')")
        await connection.commit()
        await cursor.execute("SELECT text FROM notes")
        assert await cursor.fetchall() == [("at last",)]
    finally:
        await connection.close()
        other.close()
