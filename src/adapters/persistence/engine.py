"""Engines for the three supported databases, configured from the URL alone."""

from __future__ import annotations

import asyncio
import weakref
from typing import Any
from uuid import uuid4

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

from adapters.persistence.inline_sqlite import InlineSqlite

READ_ONLY = "talia_read_only"
CONNECT_TIMEOUT_SECONDS = 5
BUSY_TIMEOUT_SECONDS = 30
"""How long a SQLite writer waits for another process's write lock."""

_write_locks: weakref.WeakKeyDictionary[Engine, asyncio.Lock] = weakref.WeakKeyDictionary()
_transaction_pooled: weakref.WeakSet[Engine] = weakref.WeakSet()


def create_database_engine(
    url: str, *, pool_size: int = 10, echo: bool = False, transaction_pooler: bool = False
) -> AsyncEngine:
    """``transaction_pooler``: the PostgreSQL URL is a pooler in transaction mode (see
    ``_transaction_pooler_arguments``); it changes nothing on the other databases."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, echo=echo)
    postgresql = parsed.get_backend_name() == "postgresql"
    # A server that does not answer fails the request in seconds (503), not at the OS's
    # TCP timeout; a pooled connection waits no longer than that either.
    connect_args: dict[str, Any] = (
        {"timeout": CONNECT_TIMEOUT_SECONDS}
        if postgresql
        else {"connect_timeout": CONNECT_TIMEOUT_SECONDS}
    )
    pooled = transaction_pooler and postgresql
    if pooled:
        connect_args |= _transaction_pooler_arguments()
    engine = create_async_engine(
        url,
        echo=echo,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_timeout=CONNECT_TIMEOUT_SECONDS,
        pool_pre_ping=True,
        pool_recycle=1800,
        connect_args=connect_args,
    )
    if pooled:
        _transaction_pooled.add(engine.sync_engine)
    return engine


def _transaction_pooler_arguments() -> dict[str, Any]:
    """asyncpg's arguments for a pooler that gives each transaction any server connection
    (PgBouncer before 1.21, Supabase's Supavisor on port 6543).

    A prepared statement lives on the server connection that prepared it, so asyncpg's
    statement cache and SQLAlchemy's are off, and every statement asyncpg must still prepare
    gets a name of its own: two clients given the same server connection never collide on
    ``__asyncpg_stmt_1__``. The engine keeps its pool: its connections are to the pooler,
    and reusing one spares the connection set-up (asyncpg's type introspection) a new one
    costs on every checkout.
    """
    return {
        "statement_cache_size": 0,
        "prepared_statement_cache_size": 0,
        "prepared_statement_name_func": lambda: f"__asyncpg_{uuid4()}__",
    }


def autocommit_allowed(engine: AsyncEngine) -> bool:
    """Whether a statement may run outside a transaction on ``engine``.

    Not behind a pooler in transaction mode: outside a transaction, the pooler may give the
    statement's prepare and its execution to two server connections.
    """
    return engine.sync_engine not in _transaction_pooled


def _sqlite_engine(url: str, *, echo: bool) -> AsyncEngine:
    """WAL, foreign keys, a busy timeout, and ``BEGIN IMMEDIATE`` for writing transactions.

    Python's sqlite3 opens transactions lazily, so two writers that both read first would
    deadlock on the lock upgrade; taking the write lock at ``BEGIN`` makes them queue instead.
    """
    database = make_url(url).database or ":memory:"

    async def connect() -> InlineSqlite:
        return InlineSqlite(database, BUSY_TIMEOUT_SECONDS)

    # Every unit of work ends its own transaction, so the pool's reset on return has
    # nothing to do.
    engine = create_async_engine(url, echo=echo, async_creator=connect, pool_reset_on_return=None)
    _tune_sqlite(engine.sync_engine, busy_timeout_ms=0)  # InlineSqlite waits off the loop
    return engine


def blocking_sqlite_engine(engine: AsyncEngine) -> Engine:
    """A synchronous engine on the same SQLite file, tuned the same way, for work that runs a
    whole transaction in one worker thread instead of one thread hop per statement."""
    blocking = create_engine(
        engine.url.set(drivername="sqlite"),
        connect_args={"timeout": BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
        pool_reset_on_return=None,
        poolclass=StaticPool,
    )
    _tune_sqlite(blocking, busy_timeout_ms=int(BUSY_TIMEOUT_SECONDS * 1000))
    return blocking


def _tune_sqlite(sync_engine: Engine, *, busy_timeout_ms: int) -> None:
    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A read-only unit stays in autocommit: each statement reads its own WAL snapshot,
        # and there is no BEGIN/ROLLBACK to run.
        if not connection.get_execution_options().get(READ_ONLY, False):
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def write_lock(engine: AsyncEngine) -> asyncio.Lock | None:
    """On SQLite, the lock this process's writers queue on before ``BEGIN IMMEDIATE``.

    SQLite admits one writer at a time; waiting in its busy handler means sleeping in steps
    of up to 100 ms, while waiting on an in-process lock wakes the next writer at once.
    """
    if engine.dialect.name != "sqlite":
        return None
    return _write_locks.setdefault(engine.sync_engine, asyncio.Lock())
