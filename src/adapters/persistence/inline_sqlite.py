"""SQLite on the event loop's own thread: aiosqlite's interface, without aiosqlite's thread.

aiosqlite hands every statement to a thread of its own and waits for the answer: two
thread switches per statement, each waiting for the GIL behind the busy event loop. In a
worker draining a burst, a fifth of the loop's time went to handing statements over, and
more to waiting for them. A statement on cached pages takes microseconds, less than the
hand-over, so here it runs where it is awaited.

The one thing that may wait long is another process: in WAL mode readers never block and
a commit does not wait, but taking the write lock (``BEGIN IMMEDIATE``) waits while another
process writes. So the connection's own busy timeout is zero: a statement SQLite refuses as
busy runs again in a thread, with the busy timeout, and the event loop goes on meanwhile.

SQLAlchemy's ``sqlite+aiosqlite`` dialect drives this connection (``async_creator``); its
adapter reaches two of aiosqlite's internals, ``_conn`` and ``_tx``, which are mirrored.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal

Params = Sequence[Any] | dict[str, Any]


class InlineSqlite:
    """One SQLite connection, awaited as aiosqlite's ``Connection`` is."""

    def __init__(self, database: str, busy_timeout_seconds: float) -> None:
        self._conn = sqlite3.connect(
            database,
            timeout=0,
            isolation_level=None,
            check_same_thread=False,  # only while a busy statement waits in a thread
            uri=database.startswith("file:"),
        )
        self._busy_timeout_ms = int(busy_timeout_seconds * 1000)
        self._tx = _RunAtOnce()

    @property
    def _connection(self) -> sqlite3.Connection:
        return self._conn

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    @isolation_level.setter
    def isolation_level(self, value: Literal["DEFERRED", "EXCLUSIVE", "IMMEDIATE"] | None) -> None:
        self._conn.isolation_level = value

    def cursor(self) -> InlineCursor:
        return InlineCursor(self, self._conn.cursor())

    async def commit(self) -> None:
        self._conn.commit()

    async def rollback(self) -> None:
        self._conn.rollback()

    async def close(self) -> None:
        self._conn.close()

    def stop(self) -> None:
        self._conn.close()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)

    async def run(self, statement: Callable[[], Any]) -> Any:
        """The statement at once; when another process holds the lock, in a thread that
        waits up to the busy timeout for it."""
        try:
            return statement()
        except sqlite3.OperationalError as error:
            if error.sqlite_errorcode != sqlite3.SQLITE_BUSY:
                raise
        return await asyncio.to_thread(self._waiting, statement)

    def _waiting(self, statement: Callable[[], Any]) -> Any:
        self._conn.execute(f"PRAGMA busy_timeout={self._busy_timeout_ms}")
        try:
            return statement()
        finally:
            self._conn.execute("PRAGMA busy_timeout=0")


class InlineCursor:
    def __init__(self, connection: InlineSqlite, cursor: sqlite3.Cursor) -> None:
        self._connection = connection
        self._cursor = cursor

    async def __aenter__(self) -> InlineCursor:
        return self

    async def __aexit__(self, *_: object) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    async def execute(self, sql: str, parameters: Params = ()) -> InlineCursor:
        await self._connection.run(lambda: self._cursor.execute(sql, parameters))
        return self

    async def executemany(self, sql: str, parameters: Iterable[Params]) -> InlineCursor:
        rows = list(parameters)
        await self._connection.run(lambda: self._cursor.executemany(sql, rows))
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(self._cursor.arraysize if size is None else size)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()


class _RunAtOnce:
    """aiosqlite's request queue as SQLAlchemy's adapter uses it (to set the isolation
    level): the function runs when queued and its future holds the outcome."""

    def put_nowait(self, item: tuple[asyncio.Future[Any], Callable[[], Any]]) -> None:
        future, function = item
        try:
            future.set_result(function())
        except Exception as error:
            future.set_exception(error)
