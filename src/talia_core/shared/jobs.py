"""Durable jobs: work recorded in the same transaction as the change that needs it.

A job is a row, not a message: it is committed with the data it works on, claimed by a
worker for a lease, and either finished, retried later with backoff, or left dead for an
admin to look at and retry. Whoever runs jobs (an in-process worker, SAQ workers on
Redis) goes through ``JobRunner``, so retry and dead-letter rules live here once.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

import attrs

from talia_core.shared.clock import Clock
from talia_core.shared.errors import CallNotAttempted, Conflict, TaliaError
from talia_core.shared.ids import new_id
from talia_core.shared.pagination import Page, PageRequest
from talia_core.shared.ports import UnitOfWork, UnitOfWorkFactory

logger = logging.getLogger("talia.jobs")

REVIVE_BATCH = 500
FORGET_BATCH = 1000
_KEYED = uuid.UUID("6f1c2b8e-4a57-4d0e-9c3e-2d7f0b9a1e55")
MAX_ERROR_LENGTH = 500
"""A failed attempt's error is kept for diagnosis only, shortened to this on purpose."""


def job_id_for(key: str) -> str:
    """The id of the one job a key may ever have: redelivered work maps to the same row."""
    return str(uuid.uuid5(_KEYED, key))


class JobStatus(enum.StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    DEAD = "dead"


@attrs.define
class Job:
    """One unit of background work; ``payload`` is JSON-serialisable.

    ``debounce_key`` groups pending work: scheduling a job whose key is already pending
    postpones that job instead of adding another (see ``JobStore.schedule``).
    """

    kind: str
    payload: dict[str, Any]
    run_at: datetime
    created_at: datetime
    id: str = attrs.field(factory=new_id)
    debounce_key: str | None = None
    status: JobStatus = JobStatus.PENDING
    attempts: int = 0
    last_error: str | None = None
    locked_until: datetime | None = None
    finished_at: datetime | None = None

    @classmethod
    def new(
        cls,
        kind: str,
        payload: Mapping[str, Any],
        *,
        at: datetime,
        delay: timedelta = timedelta(0),
        job_id: str | None = None,
        debounce_key: str | None = None,
    ) -> Job:
        return cls(
            kind=kind,
            payload=dict(payload),
            run_at=at + delay,
            created_at=at,
            id=job_id or new_id(),
            debounce_key=debounce_key,
        )

    def in_line_from(self, since: datetime) -> Job:
        """This job, placed in line as though recorded at ``since`` when that is earlier.

        Due jobs run oldest ``run_at`` first. Work that carries on from a customer's message
        (its turn, its reply) keeps that message's place: after a burst, a reply goes out
        before the messages that came after the customer's are taken in, not after all of
        them."""
        waited = self.created_at - since
        if waited > timedelta(0):
            self.run_at -= waited
        return self

    def is_due(self, now: datetime) -> bool:
        if self.status is JobStatus.PENDING:
            return self.run_at <= now
        # A running job whose lease ran out belongs to a worker that died: run it again.
        return (
            self.status is JobStatus.RUNNING
            and self.locked_until is not None
            and self.locked_until <= now
        )

    def start(self, now: datetime, lease: timedelta) -> None:
        """Claimed by a worker: new work with the same debounce key now needs a new job."""
        if not self.is_due(now):
            raise Conflict(f"job {self.id} is not due")
        self.status = JobStatus.RUNNING
        self.attempts += 1
        self.debounce_key = None
        self.locked_until = now + lease

    def succeed(self, now: datetime) -> None:
        self.status = JobStatus.DONE
        self.locked_until = None
        self.finished_at = now
        self.last_error = None

    def fail(
        self, error: str, now: datetime, retry_in: float | None, *, counted: bool = True
    ) -> None:
        """Retry after ``retry_in`` seconds, or give up (dead) when it is None.

        ``error`` is whatever the work raised: it is kept shortened to ``MAX_ERROR_LENGTH``.
        An attempt that never reached its dependency (``counted`` false) is given back.
        """
        if not counted:
            self.attempts = max(0, self.attempts - 1)
        self.last_error = error[:MAX_ERROR_LENGTH]
        self.locked_until = None
        if retry_in is None:
            self.status = JobStatus.DEAD
            self.finished_at = now
            return
        self.status = JobStatus.PENDING
        self.run_at = now + timedelta(seconds=retry_in)

    def revive(self, now: datetime) -> None:
        """An admin retries a dead job: it starts again with a fresh count of attempts."""
        if self.status is not JobStatus.DEAD:
            raise Conflict(f"job {self.id} is {self.status.value}, only dead jobs can be retried")
        self.status = JobStatus.PENDING
        self.attempts = 0
        self.run_at = now
        self.finished_at = None


class JobStore(Protocol):
    async def add(self, job: Job) -> bool:
        """Add the job; False (and nothing written) when a job with its id already exists."""
        ...

    async def schedule(self, job: Job, *, sooner: bool = False) -> None:
        """Add the job, or, when a pending job has the same ``debounce_key``, move that
        job's ``run_at`` to this one's (never earlier; with ``sooner``, never later) and add
        nothing."""
        ...

    async def get(self, job_id: str) -> Job:
        """The job, locked for update in a writing unit; ``NotFound`` when missing."""
        ...

    async def update(self, job: Job) -> None: ...

    async def settle(self, job: Job, attempt: int) -> bool:
        """Record how the job's ``attempt`` ended (as ``job`` now holds it) if the job is still
        running that attempt; False, and nothing written, when it is not (its lease ran out
        and another worker took it over, or it ended)."""
        ...

    async def renew(self, leases: Mapping[str, int], until: datetime) -> set[str]:
        """Extend to ``until`` the lease of each job (by id) still running the attempt
        given, and return their ids; a job another worker took over, or that ended, is left
        as it is."""
        ...

    async def dead(self, *, kind: str | None, since: datetime | None, limit: int) -> Sequence[Job]:
        """Dead jobs, of ``kind`` and dead since ``since`` when given, oldest first; locked
        in a writing unit."""
        ...

    async def forget_done(self, finished_before: datetime, limit: int) -> int:
        """Delete up to ``limit`` done jobs that finished before ``finished_before``; how
        many. Dead jobs stay for an admin to look at."""
        ...

    async def claim_due(self, now: datetime, limit: int) -> Sequence[Job]:
        """Up to ``limit`` due jobs, oldest ``run_at`` first, locked so that concurrent
        claimers never get the same job (rows another claimer holds are skipped)."""
        ...

    async def find(self, page: PageRequest, *, status: JobStatus | None) -> Page[Job]:
        """Most recently created first."""
        ...

    async def counts(self) -> Mapping[JobStatus, int]: ...


class JobsUnitOfWork(UnitOfWork, Protocol):
    @property
    def jobs(self) -> JobStore: ...


JobHandler = Callable[[Mapping[str, Any]], Awaitable[None]]
RetryDelay = Callable[[int, TaliaError | None], float | None]
"""Seconds before the attempt after ``attempts`` failed ones, or None to give up; the
error is the core error the attempt raised, if any (to honour a provider's retry-after)."""


class PermanentFailure(TaliaError):
    """Work that trying again cannot mend: its job is left dead at once (an admin may retry it)."""


class UnknownJobKind(PermanentFailure):
    pass


class JobRunner:
    """Claims due jobs and runs them through their handlers; one place for retries.

    Handlers own their transactions and must be idempotent: a job runs at least once (a
    worker that dies mid-job leaves it to be claimed again when its lease runs out). The
    lease is short and renewed every third of it while the job runs, so a dead worker's
    jobs are taken over within a lease, not minutes later.

    A failure counts as an attempt unless the call never reached its dependency
    (``CallNotAttempted``: an open breaker): then the job waits for the breaker without
    spending its attempts. No job is retried past ``horizon`` after it was created, the
    time its work is still worth doing (a reply hours late is no reply).
    """

    def __init__(
        self,
        uow: UnitOfWorkFactory[JobsUnitOfWork],
        clock: Clock,
        handlers: Mapping[str, JobHandler],
        retry_delay: RetryDelay,
        *,
        lease: timedelta = timedelta(seconds=30),
        horizon: timedelta = timedelta(hours=24),
        on_error: Callable[[Job, BaseException], None] | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._handlers = dict(handlers)
        self._retry_delay = retry_delay
        self._lease = lease
        self._horizon = horizon
        self._on_error = on_error

    @property
    def kinds(self) -> frozenset[str]:
        return frozenset(self._handlers)

    async def claim(self, limit: int) -> list[Job]:
        now = self._clock.now()
        claimed: list[Job] = []
        async with self._uow() as uow:
            for job in await uow.jobs.claim_due(now, limit):
                abandoned = job.status is JobStatus.RUNNING  # its worker died mid-job
                if abandoned and self._retry_delay(job.attempts, None) is None:
                    job.fail("its worker stopped before it finished, every attempt", now, None)
                else:
                    job.start(now, self._lease)
                    claimed.append(job)
                await uow.jobs.update(job)
            await uow.commit()
        return claimed

    async def execute(self, job: Job) -> JobStatus:
        """Run one claimed job and record how it ended."""
        handler = self._handlers.get(job.kind)
        error: BaseException | None = None
        try:
            if handler is None:
                raise UnknownJobKind(f"no handler for job kind {job.kind!r}")
            async with self._renewing(job):
                await handler(job.payload)
        except Exception as failure:  # every failure is recorded on the job
            error = failure
            if self._on_error is not None:
                self._on_error(job, failure)
        attempt, now = job.attempts, self._clock.now()
        ended = attrs.evolve(job)
        if error is None:
            ended.succeed(now)
        else:
            counted = not isinstance(error, CallNotAttempted)
            retry_in = self._retry_in(job, error, now)
            ended.fail(f"{type(error).__name__}: {error}", now, retry_in, counted=counted)
        async with self._uow() as uow:
            if not await uow.jobs.settle(ended, attempt):
                return (await uow.jobs.get(job.id)).status  # another worker took over
            await uow.commit()
        return ended.status

    def _retry_in(self, job: Job, error: BaseException, now: datetime) -> float | None:
        """Seconds to the next attempt, or None when the job dies now."""
        if isinstance(error, PermanentFailure):
            return None
        if isinstance(error, CallNotAttempted):
            retry_in: float | None = float(error.retry_after_seconds or 1)
        else:
            core = error if isinstance(error, TaliaError) else None
            retry_in = self._retry_delay(job.attempts, core)
        if retry_in is None or now + timedelta(seconds=retry_in) > job.created_at + self._horizon:
            return None
        return retry_in

    @contextlib.asynccontextmanager
    async def _renewing(self, job: Job) -> AsyncIterator[None]:
        """Renew the job's lease every third of it until the work ends."""

        async def beat() -> None:
            every = self._lease.total_seconds() / 3
            while True:
                await asyncio.sleep(every)
                try:
                    await self.renew([job])
                except Exception:  # the database may be away: the next beat tries again
                    logger.warning("could not renew the lease of job %s", job.id, exc_info=True)

        heart = asyncio.create_task(beat(), name=f"talia-job-lease-{job.id}")
        try:
            yield
        finally:
            heart.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heart

    async def renew(self, running: Sequence[Job]) -> set[str]:
        """Extend the leases of these jobs, claimed by this worker and still running; the
        ids of those whose attempt was still theirs."""
        async with self._uow() as uow:
            until = self._clock.now() + self._lease
            renewed = await uow.jobs.renew({job.id: job.attempts for job in running}, until)
            await uow.commit()
        return renewed

    async def take_up(self, job: Job) -> bool:
        """Renew the lease of a job handed over through a queue, before it runs: False when
        the lease ran out while it waited there and the attempt was claimed again since, so
        this copy must not run (the newer one will)."""
        return job.id in await self.renew([job])

    async def run_due(self, limit: int) -> int:
        """Claim and run due jobs one after another; how many ran."""
        jobs = await self.claim(limit)
        for job in jobs:
            await self.execute(job)
        return len(jobs)

    async def list(self, page: PageRequest, *, status: JobStatus | None = None) -> Page[Job]:
        async with self._uow(read_only=True) as uow:
            return await uow.jobs.find(page, status=status)

    async def counts(self) -> Mapping[JobStatus, int]:
        async with self._uow(read_only=True) as uow:
            return await uow.jobs.counts()

    async def retry_dead(self, *, kind: str | None = None, since: datetime | None = None) -> int:
        """Every dead job (of ``kind``, dead since ``since``) runs again with a fresh count
        of attempts, in batches of a transaction each; how many."""
        revived = 0
        while True:
            async with self._uow() as uow:
                found = await uow.jobs.dead(kind=kind, since=since, limit=REVIVE_BATCH)
                now = self._clock.now()
                for job in found:
                    job.revive(now)
                    await uow.jobs.update(job)
                await uow.commit()
            revived += len(found)
            if len(found) < REVIVE_BATCH:
                return revived

    async def forget_done(self, older_than: timedelta) -> int:
        """Delete the jobs done more than ``older_than`` ago, in batches of a transaction
        each, so a busy table is never locked for long; how many. Every job is a row kept
        when it ends: without this the table grows with every message and order."""
        before = self._clock.now() - older_than
        forgotten = 0
        while True:
            async with self._uow() as uow:
                deleted = await uow.jobs.forget_done(before, FORGET_BATCH)
                await uow.commit()
            forgotten += deleted
            if deleted < FORGET_BATCH:
                return forgotten

    async def retry(self, job_id: str) -> Job:
        async with self._uow() as uow:
            job = await uow.jobs.get(job_id)
            job.revive(self._clock.now())
            await uow.jobs.update(job)
            await uow.commit()
        return job


class JobQueue(Protocol):
    """Runs committed jobs off the request path; started and stopped with the app."""

    async def start(self) -> None: ...

    async def stop(self) -> None:
        """Stop claiming; wait (bounded) for jobs already running to finish."""
        ...

    def wake(self) -> None:
        """Jobs were just committed: look now instead of at the next poll."""
        ...
