"""The durable inbox with group commit: one transaction for every webhook waiting on it.

A webhook's handler waits until its events and their jobs are committed, then answers 200.
While one transaction is being written, the events of every other request queue up and go
together in the next: under load the cost of a commit is shared by dozens of requests,
which is what lets one SQLite file acknowledge thousands of webhooks a second. Redeliveries
(the same channel and key) are ignored by the unique key, also within one batch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy import exc
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.persistence.connection import translate
from adapters.persistence.conversations import inbox
from adapters.persistence.engine import write_lock
from adapters.persistence.jobs import jobs
from talia_core.conversations.model import InboxEntry
from talia_core.conversations.services import INBOX_JOB
from talia_core.shared.errors import ExternalServiceUnavailable
from talia_core.shared.jobs import JobStatus, job_id_for

_Waiting = tuple[list[InboxEntry], "asyncio.Future[list[bool]]"]


def inbox_job_id(entry: InboxEntry) -> str:
    return job_id_for(f"inbox:{entry.channel.value}:{entry.key}")


class SqlAlchemyInbox:
    def __init__(self, engine: AsyncEngine, *, max_batch: int = 1000) -> None:
        self._engine = engine
        self._max_batch = max_batch
        self._waiting: list[_Waiting] = []
        self._writer: asyncio.Task[None] | None = None

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
                except exc.DBAPIError as error:
                    self._fail(batch, translate(error))
                    continue
                except OSError as error:
                    self._fail(batch, ExternalServiceUnavailable("database", type(error).__name__))
                    continue
                except Exception as error:  # a defect: every waiting request must hear of it
                    self._fail(batch, error)
                    continue
                start = 0
                for entries, future in batch:
                    if not future.done():
                        future.set_result(answers[start : start + len(entries)])
                    start += len(entries)
        finally:
            self._writer = None

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
        rows = [
            {
                "id": e.id,
                "channel": e.channel.value,
                "key": e.key,
                "data": e.data,
                "received_at": e.received_at,
            }
            for e in candidates.values()
        ]
        lock = write_lock(self._engine)
        if lock is not None:
            await lock.acquire()
        try:
            async with self._engine.connect() as connection:
                await connection.execute(_insert_ignoring_duplicates(connection, inbox), rows)
                ours = [row["id"] for row in rows]
                stored = set(
                    (
                        await connection.execute(sa.select(inbox.c.id).where(inbox.c.id.in_(ours)))
                    ).scalars()
                )
                fresh = [e for e in candidates.values() if e.id in stored]
                if fresh:
                    await connection.execute(
                        _insert_ignoring_duplicates(connection, jobs),
                        [_job_row(e) for e in fresh],
                    )
                await connection.commit()
        finally:
            if lock is not None:
                lock.release()
        return [entry.id in stored for entry in entries]


def _insert_ignoring_duplicates(connection: AsyncConnection, table: sa.Table) -> sa.Insert:
    dialect = connection.dialect.name
    if dialect in ("mysql", "mariadb"):
        return mysql.insert(table).on_duplicate_key_update(id=table.c.id)
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).on_conflict_do_nothing()


def _job_row(entry: InboxEntry) -> dict[str, object]:
    return {
        "id": inbox_job_id(entry),
        "kind": INBOX_JOB,
        "payload": entry.data,
        "run_at": entry.received_at,
        "created_at": entry.received_at,
        "debounce_key": None,
        "status": JobStatus.PENDING.value,
        "attempts": 0,
        "last_error": None,
        "locked_until": None,
        "finished_at": None,
    }
