"""The ``jobs`` table and the SQL job store.

Uniqueness decides, never a read before a write. ``add`` inserts and does nothing when the
id is taken (``ON CONFLICT DO NOTHING``). MySQL and MariaDB have no such clause short of
``INSERT IGNORE``, which would hide every other error too, and their upsert cannot tell an
insert from a duplicate (SQLAlchemy opens connections with ``CLIENT_FOUND_ROWS``); there
a plain insert runs, and a duplicate-key error is a duplicate of the id when a locking read
(which sees the latest commit, not the transaction's snapshot) finds a row with that id.
MySQL rolls back only the failed statement, so the transaction goes on.

``schedule`` is an upsert on the unique ``debounce_key``: only pending jobs hold a key
(``Job.start`` clears it), and NULLs never collide.

``claim_due`` locks what it returns with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL and
MariaDB (10.6+) in a writing unit: two claimers at once get different jobs, neither
waiting for the other. SQLite ignores the clause; its writers run one at a time anyway.
Pending jobs are read in the order of ``ix_jobs_status_run_at`` (InnoDB's secondary index
ends with the primary key), so MariaDB stops locking after ``limit`` rows; running jobs
whose lease ran out, few and rare, are read first and then locked by id (see the method).
When both kinds are due, up to twice ``limit`` rows stay locked until the claim commits.
``get`` locks its row in a writing unit too.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import partial
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from adapters.persistence.bundle import RepositoryBundle, bound
from adapters.persistence.connection import Transaction
from adapters.persistence.mapping import as_row, from_row
from adapters.persistence.metadata import UtcDateTime, id_column, metadata
from adapters.persistence.prepared import dialect_insert, key, keyed, limit, locking
from talia_core.shared.errors import Conflict, NotFound
from talia_core.shared.jobs import MAX_ERROR_LENGTH, Job, JobStatus
from talia_core.shared.pagination import Page, PageRequest

jobs = sa.Table(
    "jobs",
    metadata,
    id_column(primary_key=True),
    sa.Column("kind", sa.String(100), nullable=False),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("run_at", UtcDateTime, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    # Compared byte for byte on MySQL and MariaDB too, as everywhere else.
    sa.Column(
        "debounce_key",
        sa.String(200).with_variant(
            mysql.VARCHAR(200, collation="utf8mb4_bin"), "mysql", "mariadb"
        ),
        unique=True,
    ),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("last_error", sa.String(MAX_ERROR_LENGTH)),
    sa.Column("locked_until", UtcDateTime),
    sa.Column("finished_at", UtcDateTime),
    # What claim_due looks for: pending by run_at, and running ones whose lease ran out.
    sa.Index("ix_jobs_status_run_at", "status", "run_at"),
)

_job = partial(from_row, Job)

_INSERT = jobs.insert()
_TAKEN = sa.select(jobs.c.id).where(jobs.c.id == key(jobs.c.id)).with_for_update(read=True)
_GET = locking(jobs.select().where(jobs.c.id == key(jobs.c.id)))
_UPDATE = jobs.update().where(jobs.c.id == key(jobs.c.id))
# The attempt is still the job's when its row matches: a lease that ran out, or an end
# recorded, leaves it unmatched.
_RUNNING_ATTEMPT = jobs.update().where(
    jobs.c.id == key(jobs.c.id),
    jobs.c.status == JobStatus.RUNNING.value,
    jobs.c.attempts == key(jobs.c.attempts),
)
_PENDING_DUE = (
    jobs.select()
    .where(jobs.c.status == JobStatus.PENDING.value, jobs.c.run_at <= key(jobs.c.run_at))
    .order_by(jobs.c.run_at, jobs.c.id)
    .limit(limit())
)
_PENDING_DUE_LOCKED = _PENDING_DUE.with_for_update(skip_locked=True)
_LEASE_RAN_OUT = sa.and_(
    jobs.c.status == JobStatus.RUNNING.value, jobs.c.locked_until <= key(jobs.c.locked_until)
)
_ABANDONED_IDS = (
    sa.select(jobs.c.id).where(_LEASE_RAN_OUT).order_by(jobs.c.run_at, jobs.c.id).limit(limit())
)

# A job ran after it was due, so one that finished before a time was due before it too: the
# condition on run_at keeps the read within ix_jobs_status_run_at's range.
_DONE_BEFORE = (
    sa.select(jobs.c.id)
    .where(
        jobs.c.status == JobStatus.DONE.value,
        jobs.c.run_at < key(jobs.c.finished_at),
        jobs.c.finished_at < key(jobs.c.finished_at),
    )
    .limit(limit())
)


@functools.cache
def _add(dialect: str) -> Any:
    return dialect_insert(dialect, jobs).on_conflict_do_nothing(index_elements=[jobs.c.id])


@functools.cache
def _schedule(dialect: str, *, sooner: bool) -> Any:
    upsert = dialect_insert(dialect, jobs)
    if dialect in ("mysql", "mariadb"):
        return upsert.on_duplicate_key_update(
            run_at=_kept_run_at(upsert.inserted.run_at, sooner=sooner)
        )
    run_at = _kept_run_at(upsert.excluded.run_at, sooner=sooner)
    return upsert.on_conflict_do_update(
        index_elements=[jobs.c.debounce_key], set_={"run_at": run_at}
    )


class SqlAlchemyJobStore:
    def __init__(self, tx: Transaction, *, lock: bool = False) -> None:
        self._tx = tx
        self._lock = lock

    async def add(self, job: Job) -> bool:
        if self._tx.dialect in ("mysql", "mariadb"):
            try:
                await self._tx.execute(_INSERT, as_row(job))
            except Conflict:
                if await self._tx.one_or_none(_TAKEN, keyed(id=job.id)) is None:
                    raise  # another unique key: the debounce key is taken
                return False
            return True
        return (await self._tx.execute(_add(self._tx.dialect), as_row(job))).rowcount == 1

    async def schedule(self, job: Job, *, sooner: bool = False) -> None:
        if job.debounce_key is None:
            await self._tx.execute(_INSERT, as_row(job))
            return
        await self._tx.execute(_schedule(self._tx.dialect, sooner=sooner), as_row(job))

    async def get(self, job_id: str) -> Job:
        row = await self._tx.one_or_none(_GET[self._lock], keyed(id=job_id))
        if row is None:
            raise NotFound("job", job_id)
        return _job(row._mapping)

    async def update(self, job: Job) -> None:
        await self._tx.execute(_UPDATE, {**keyed(id=job.id), **_progress(job)})

    async def settle(self, job: Job, attempt: int) -> bool:
        running = keyed(id=job.id, attempts=attempt)
        result = await self._tx.execute(_RUNNING_ATTEMPT, {**running, **_progress(job)})
        return bool(result.rowcount == 1)

    async def renew(self, leases: Mapping[str, int], until: datetime) -> set[str]:
        renewed: set[str] = set()
        for job_id, attempt in leases.items():
            running = keyed(id=job_id, attempts=attempt)
            result = await self._tx.execute(_RUNNING_ATTEMPT, {**running, "locked_until": until})
            if result.rowcount:
                renewed.add(job_id)
        return renewed

    async def dead(self, *, kind: str | None, since: datetime | None, limit: int) -> Sequence[Job]:
        query = jobs.select().where(jobs.c.status == JobStatus.DEAD.value)
        if kind is not None:
            query = query.where(jobs.c.kind == kind)
        if since is not None:
            query = query.where(jobs.c.finished_at >= since)
        query = query.order_by(jobs.c.finished_at, jobs.c.id).limit(limit)
        if self._lock:
            query = query.with_for_update()
        return [_job(row) for row in (await self._tx.execute(query)).mappings()]

    async def forget_done(self, finished_before: datetime, limit: int) -> int:
        """The ids first, then a delete by id: MySQL and MariaDB take no ``LIMIT`` in a
        subquery of ``IN``."""
        found = await self._tx.execute(
            _DONE_BEFORE, keyed(finished_at=finished_before, limit=limit)
        )
        ids = list(found.scalars())
        if ids:
            await self._tx.execute(jobs.delete().where(jobs.c.id.in_(ids)))
        return len(ids)

    async def claim_due(self, now: datetime, limit: int) -> Sequence[Job]:
        pending = _PENDING_DUE_LOCKED if self._lock else _PENDING_DUE
        due = await self._tx.execute(pending, keyed(run_at=now, limit=limit))
        found = [_job(row) for row in due.mappings()]
        # Locked by id, not by a locking scan of the running jobs: under REPEATABLE READ that
        # scan would lock the gaps of the index range on MySQL and MariaDB, and every other
        # claimer moving its own jobs into the range would wait for it, or deadlock.
        abandoned = keyed(locked_until=now, limit=limit)
        ids = list((await self._tx.execute(_ABANDONED_IDS, abandoned)).scalars())
        if ids:
            query = jobs.select().where(jobs.c.id.in_(ids), _LEASE_RAN_OUT)
            if self._lock:
                query = query.with_for_update(skip_locked=True)
            taken = await self._tx.execute(query, keyed(locked_until=now))
            found += [_job(row) for row in taken.mappings()]
        return sorted(found, key=lambda job: (job.run_at, job.id))[:limit]

    async def find(self, page: PageRequest, *, status: JobStatus | None) -> Page[Job]:
        query = jobs.select()
        if status is not None:
            query = query.where(jobs.c.status == status.value)
        order = [jobs.c.created_at.desc(), jobs.c.id.desc()]
        return await self._tx.page(query, page, order, _job)

    async def counts(self) -> Mapping[JobStatus, int]:
        """Every status, with zero for those no job has."""
        query = sa.select(jobs.c.status, sa.func.count().label("jobs")).group_by(jobs.c.status)
        rows = (await self._tx.execute(query)).mappings()
        found = {JobStatus(row["status"]): int(row["jobs"]) for row in rows}
        return {status: found.get(status, 0) for status in JobStatus}


def _kept_run_at(offered: sa.ColumnElement[Any], *, sooner: bool) -> sa.ColumnElement[Any]:
    """The pending job's ``run_at`` once another job of its key is scheduled: the later of
    the two, or the sooner."""
    wins = offered < jobs.c.run_at if sooner else offered > jobs.c.run_at
    return sa.case((wins, offered), else_=jobs.c.run_at)


def _progress(job: Job) -> dict[str, Any]:
    """The columns a job's life changes."""
    return {
        "run_at": job.run_at,
        "debounce_key": job.debounce_key,
        "status": job.status.value,
        "attempts": job.attempts,
        "last_error": job.last_error,
        "locked_until": job.locked_until,
        "finished_at": job.finished_at,
    }


class JobRepositories(RepositoryBundle):
    jobs = bound(SqlAlchemyJobStore, locks=True)
