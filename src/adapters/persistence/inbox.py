"""The durable inbox with group commit: one transaction for every webhook waiting on it.

A webhook's handler waits until its events and their jobs are committed, then answers 200.
While one transaction is being written, the events of every other request queue up and go
together in the next: under load the cost of a commit is shared by dozens of requests,
which is what lets one SQLite file acknowledge thousands of webhooks a second. Redeliveries
(the same channel and key) are ignored by the unique key, also within one batch.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from datetime import UTC
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy import exc
from sqlalchemy.dialects import mysql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.connection import refuses_value, translate
from adapters.persistence.conversations.tables import inbox
from adapters.persistence.engine import BUSY_TIMEOUT_SECONDS, blocking_sqlite_engine, write_lock
from adapters.persistence.jobs import jobs
from adapters.persistence.mapping import as_row
from talia_core.conversations.events import InboxEntry
from talia_core.conversations.jobs import INBOX_JOB
from talia_core.shared.errors import ExternalServiceUnavailable, Malformed
from talia_core.shared.jobs import JobStatus

_Waiting = tuple[list[InboxEntry], "asyncio.Future[list[bool]]"]


class SqlAlchemyInbox:
    def __init__(self, engine: AsyncEngine, *, max_batch: int = 1000) -> None:
        self._engine = engine
        self._max_batch = max_batch
        self._waiting: list[_Waiting] = []
        self._writer: asyncio.Task[None] | None = None
        self._sqlite: _BlockingSqlite | None = None

    async def accept(self, entries: Sequence[InboxEntry]) -> list[bool]:
        if not entries:
            return []
        future: asyncio.Future[list[bool]] = asyncio.get_running_loop().create_future()
        self._waiting.append((list(entries), future))
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_while_waiting())
        return await asyncio.shield(future)

    async def _write_while_waiting(self) -> None:
        try:
            while self._waiting:
                batch = self._take_batch()
                try:
                    answers = await self._write(
                        [entry for entries, _ in batch for entry in entries]
                    )
                except Exception as error:  # every waiting request must hear of it
                    refusal = _refusal(error)
                    if len(batch) > 1 and not isinstance(refusal, ExternalServiceUnavailable):
                        await self._write_one_by_one(batch)
                    else:
                        self._fail(batch, refusal)
                    continue
                start = 0
                for entries, future in batch:
                    if not future.done():
                        future.set_result(answers[start : start + len(entries)])
                    start += len(entries)
        finally:
            self._writer = None

    async def _write_one_by_one(self, batch: list[_Waiting]) -> None:
        """A batch the database refused for what one request brought: each request again in
        its own transaction, so its neighbours commit and only it hears the refusal."""
        for entries, future in batch:
            try:
                answers = await self._write(entries)
            except Exception as error:
                if not future.done():
                    future.set_exception(_refusal(error))
            else:
                if not future.done():
                    future.set_result(answers)

    def _take_batch(self) -> list[_Waiting]:
        taken: list[_Waiting] = []
        size = 0
        while self._waiting and (not taken or size + len(self._waiting[0][0]) <= self._max_batch):
            waiting = self._waiting.pop(0)
            taken.append(waiting)
            size += len(waiting[0])
        return taken

    @staticmethod
    def _fail(batch: list[_Waiting], error: BaseException) -> None:
        for _, future in batch:
            if not future.done():
                future.set_exception(error)

    async def _write(self, entries: list[InboxEntry]) -> list[bool]:
        # The first delivery of a key in the batch is the candidate; the rest are repeats.
        candidates: dict[tuple[str, str], InboxEntry] = {}
        for entry in entries:
            candidates.setdefault((entry.channel.value, entry.key), entry)
        fresh = list(candidates.values())
        lock = write_lock(self._engine)
        stored: set[str]
        if lock is not None:
            async with lock:
                stored = await self._write_sqlite(fresh)
        elif self._engine.dialect.name == "postgresql":
            stored = await self._write_postgresql(fresh)
        else:
            stored = await self._write_mysql(fresh)
        return [entry.id in stored for entry in entries]

    async def _write_postgresql(self, fresh: list[InboxEntry]) -> set[str]:
        async with self._engine.connect() as connection:
            result = await connection.execute(_POSTGRESQL_ACCEPT, _postgresql_arrays(fresh))
            stored = set(result.scalars())
            await connection.commit()
        return stored

    async def _write_mysql(self, fresh: list[InboxEntry]) -> set[str]:
        """Insert the entries (a redelivered key is skipped), read which of ours were
        stored, insert the jobs of those: MySQL's upsert returns no rows."""
        stored_among = sa.select(inbox.c.id).where(inbox.c.id.in_([e.id for e in fresh]))
        async with self._engine.connect() as connection:
            await connection.execute(
                _insert_ignoring_duplicates("mysql", inbox), [_inbox_row(e) for e in fresh]
            )
            stored = {str(i) for i in (await connection.execute(stored_among)).scalars()}
            if jobs_rows := [_job_row(e) for e in fresh if e.id in stored]:
                await connection.execute(_insert_ignoring_duplicates("mysql", jobs), jobs_rows)
            await connection.commit()
        return stored

    async def _write_sqlite(self, fresh: list[InboxEntry]) -> set[str]:
        """On the event loop when SQLite's write lock is free: a batch takes a millisecond
        or two, while a worker thread would wait for the GIL behind the busy loop at every
        statement (several milliseconds each). When another process holds the lock, the
        batch waits for it in a worker thread instead of blocking the loop."""
        if self._sqlite is None:
            self._sqlite = _BlockingSqlite(self._engine)
        try:
            return self._sqlite.write(fresh, wait=False)
        except sqlite3.OperationalError as busy:
            if busy.sqlite_errorcode != sqlite3.SQLITE_BUSY:
                raise
        return await asyncio.to_thread(self._sqlite.write, fresh, wait=True)

    async def close(self) -> None:
        if self._sqlite is not None:
            self._sqlite.close()
            self._sqlite = None


def _refusal(error: Exception) -> Exception:
    """The core error a failed write means: a value the database cannot store is the
    sender's (``Malformed``); a database out of reach, ``ExternalServiceUnavailable``;
    anything else stays a defect."""
    if isinstance(error, exc.DBAPIError) and refuses_value(error):
        return Malformed(f"the event holds a value the database cannot store: {error.orig}")
    if isinstance(error, UnicodeEncodeError):  # the embedded path encodes the JSON itself
        return Malformed(f"the event holds text that cannot be encoded: {error.reason}")
    if isinstance(error, exc.DBAPIError):
        return translate(error)
    if isinstance(error, OSError | sqlite3.OperationalError):
        # sqlite3's own errors come from the embedded path, which SQLAlchemy does not
        # wrap: a lock held past the busy timeout, a full or read-only disk.
        return ExternalServiceUnavailable("database", type(error).__name__)
    return error


_POSTGRESQL_ACCEPT = sa.text(
    """
    WITH entries AS (
        SELECT * FROM unnest(
            CAST(:ids AS varchar[]), CAST(:channels AS varchar[]), CAST(:keys AS varchar[]),
            CAST(:data AS text[]), CAST(:received AS timestamp[]), CAST(:jobs AS varchar[])
        ) AS entry(id, channel, key, data, received_at, job_id)
    ), stored AS (
        INSERT INTO inbox (id, channel, key, data, received_at)
        SELECT id, channel, key, CAST(data AS json), received_at FROM entries
        ON CONFLICT DO NOTHING
        RETURNING id
    ), queued AS (
        INSERT INTO jobs (id, kind, payload, run_at, created_at, status, attempts)
        SELECT entry.job_id, :kind, CAST(entry.data AS json), entry.received_at,
               entry.received_at, :pending, 0
        FROM entries AS entry JOIN stored ON stored.id = entry.id
        ON CONFLICT DO NOTHING
    )
    SELECT id FROM stored
    """
)
"""PostgreSQL's whole batch in one statement and one round trip: the entries travel as six
arrays, the jobs are added for exactly the rows the unique key let in, and the ids of
those come back."""


def _postgresql_arrays(fresh: list[InboxEntry]) -> dict[str, Any]:
    """The batch as the columns ``_POSTGRESQL_ACCEPT`` unnests; times as naive UTC, as
    ``UtcDateTime`` stores them."""
    return {
        "kind": INBOX_JOB,
        "pending": JobStatus.PENDING.value,
        "ids": [entry.id for entry in fresh],
        "channels": [entry.channel.value for entry in fresh],
        "keys": [entry.key for entry in fresh],
        "data": [msgspec.json.encode(entry.data).decode() for entry in fresh],
        "received": [e.received_at.astimezone(UTC).replace(tzinfo=None) for e in fresh],
        "jobs": [entry.job().id for entry in fresh],
    }


class _BlockingSqlite:
    """The inbox's own connection to the SQLite file, used by one batch at a time.

    Statements are compiled once by SQLAlchemy; each entry's JSON and time are encoded once
    (the job carries the same event) and stored exactly as the repositories read them.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = blocking_sqlite_engine(engine)
        self._connection = self._engine.raw_connection()
        dialect = self._engine.dialect
        self._inbox = _Prepared(_insert_ignoring_duplicates("sqlite", inbox), dialect)
        self._jobs = _Prepared(_insert_ignoring_duplicates("sqlite", jobs), dialect)
        self._time = inbox.c.received_at.type.bind_processor(dialect)

    def write(self, fresh: list[InboxEntry], *, wait: bool) -> set[str]:
        """One transaction; without ``wait`` it fails at once (SQLITE_BUSY) if another
        connection holds the write lock."""
        encoded = [(e, msgspec.json.encode(e.data).decode(), self._when(e)) for e in fresh]
        cursor = self._connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_SECONDS * 1000 if wait else 0}")
        try:
            cursor.execute("BEGIN IMMEDIATE")
        except BaseException:
            cursor.close()
            raise
        try:
            stored = []
            for entry, data, when in encoded:
                row = {**_inbox_row(entry), "data": data, "received_at": when}
                cursor.execute(self._inbox.sql, self._inbox.values(row))
                if cursor.rowcount == 1:
                    stored.append((entry, data, when))
            if stored:
                cursor.executemany(
                    self._jobs.sql,
                    [
                        self._jobs.values(
                            {**_job_row(e), "payload": data, "run_at": when, "created_at": when}
                        )
                        for e, data, when in stored
                    ],
                )
            cursor.execute("COMMIT")
        except BaseException:
            cursor.execute("ROLLBACK")
            raise
        finally:
            cursor.close()
        return {entry.id for entry, _, _ in stored}

    def _when(self, entry: InboxEntry) -> object:
        return self._time(entry.received_at) if self._time else entry.received_at

    def close(self) -> None:
        self._connection.close()
        self._engine.dispose()


class _Prepared:
    """An insert compiled once, and the order its values go in."""

    def __init__(self, statement: sa.Insert, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = str(compiled)
        self._names = list(compiled.positiontup or ())

    def values(self, row: dict[str, object]) -> tuple[object, ...]:
        return tuple(row[name] for name in self._names)


def _inbox_row(entry: InboxEntry) -> dict[str, object]:
    return {
        "id": entry.id,
        "channel": entry.channel.value,
        "key": entry.key,
        "data": entry.data,
        "received_at": entry.received_at,
    }


def _insert_ignoring_duplicates(dialect: str, table: sa.Table) -> sa.Insert:
    if dialect == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing()
    return mysql.insert(table).on_duplicate_key_update(id=table.c.id)


def _job_row(entry: InboxEntry) -> dict[str, object]:
    return as_row(entry.job())
