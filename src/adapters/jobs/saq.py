"""Jobs run by SAQ workers on Redis, so that several processes share the work.

The database stays the record of every job: the transaction that changes data commits its
jobs with it. A relay in each process claims due jobs there (claims are exclusive, so every
claimed attempt is handed over once) and enqueues them into SAQ; whichever worker dequeues
one runs it through ``JobRunner.execute``, which records how it ended. SAQ's own retries are
off: the runner's apply. Whatever gets lost between the two (a relay that dies after claiming,
a worker that dies mid-job, a flushed Redis) is claimed again from the database when the job's
lease runs out. A job that waited in Redis past its lease may then be there twice: a worker
takes up each copy's attempt before it runs it, so only the newest one runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime
from typing import Any

import saq
from redis.asyncio import Redis
from redis.exceptions import RedisError
from saq.queue.redis import RedisQueue
from saq.types import Context

from talia_core.shared.jobs import Job, JobRunner, JobStatus

logger = logging.getLogger("talia.jobs")

FUNCTION = "talia.job"
MAX_BACKOFF_SECONDS = 30.0
REDIS_DOWN_PAUSE_SECONDS = 1.0
SUPERSEDED = "superseded"
"""What SAQ records for a copy that did not run: its attempt was claimed again meanwhile."""


class _PatientRedisQueue(RedisQueue):
    """SAQ's Redis queue, except that a worker pauses before it asks again while Redis is down.

    SAQ's worker asks again at once after a failed dequeue, which spins a CPU for as long as
    Redis cannot be reached (tobymao/saq#286 asks what happens then; nothing handles it).
    """

    async def dequeue(
        self,
        timeout: float = 0.0,  # noqa: ASYNC109 - SAQ's signature
        poll_interval: float = 0.0,
    ) -> saq.Job | None:
        try:
            return await super().dequeue(timeout, poll_interval)
        except (RedisError, OSError):
            await asyncio.sleep(REDIS_DOWN_PAUSE_SECONDS)
            return None


class SaqJobQueue:
    """Relays due jobs from the database to a SAQ queue and (``run_worker``) runs them.

    A process that only records jobs (an API worker) may run with ``run_worker=False``: it
    still hands over what it commits, at once when woken. At most ``batch`` jobs wait in
    Redis at any time, so claimed jobs do not sit there while their leases run out.
    ``timeout_seconds`` bounds one run in SAQ; the runner renews the job's lease while it
    runs, and a job still waiting in Redis when its lease runs out is claimed again.
    """

    def __init__(
        self,
        runner: JobRunner,
        *,
        redis_url: str,
        queue_name: str = "talia",
        concurrency: int = 4,
        batch: int = 32,
        poll_seconds: float = 1.0,
        run_worker: bool = True,
        timeout_seconds: int = 300,
        stop_grace_seconds: float = 10.0,
    ) -> None:
        if concurrency < 1 or batch < 1 or timeout_seconds < 1:
            raise ValueError("concurrency, batch and timeout_seconds must be at least 1")
        if poll_seconds <= 0 or stop_grace_seconds < 0:
            raise ValueError("poll_seconds must be positive and stop_grace_seconds not negative")
        self._runner = runner
        self._redis_url = redis_url
        self._queue_name = queue_name
        self._concurrency = concurrency
        self._batch = batch
        self._poll_seconds = poll_seconds
        self._run_worker = run_worker
        self._timeout = timeout_seconds
        self._grace = stop_grace_seconds
        self._queue: _PatientRedisQueue | None = None
        self._worker: saq.Worker[Context] | None = None
        self._working: asyncio.Task[None] | None = None
        self._relaying: asyncio.Task[None] | None = None
        self._executing: set[asyncio.Task[Any]] = set()
        self._nudge: asyncio.Event | None = None
        self._stopping = False

    async def start(self) -> None:
        if self._queue is not None:
            raise RuntimeError("the job queue is already running")
        self._stopping = False
        self._nudge = asyncio.Event()
        self._queue = _PatientRedisQueue(Redis.from_url(self._redis_url), name=self._queue_name)
        await self._queue.connect()
        if self._run_worker:
            self._worker = saq.Worker(
                self._queue, functions=[(FUNCTION, self._perform)], concurrency=self._concurrency
            )
            # SAQ would take over SIGINT/SIGTERM; in here they belong to the app's server.
            self._worker.SIGNALS = []
            self._working = asyncio.create_task(self._worker.start(), name="talia-jobs-saq")
        self._relaying = asyncio.create_task(self._relay(self._queue), name="talia-jobs-relay")

    def wake(self) -> None:
        if self._nudge is not None:
            self._nudge.set()

    async def stop(self) -> None:
        queue, self._queue = self._queue, None
        if queue is None:
            return
        self._stopping = True
        self.wake()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._grace
        relaying, self._relaying = self._relaying, None
        if relaying is not None:
            # A hand-over under way ends with its jobs in Redis; nothing is claimed after it.
            await asyncio.wait({relaying}, timeout=self._grace)
            relaying.cancel()
            await asyncio.gather(relaying, return_exceptions=True)
        # Jobs dequeued meanwhile run too; wait for all of them, up to the deadline.
        while self._executing and (left := deadline - loop.time()) > 0:
            await asyncio.wait(set(self._executing), timeout=left)
        worker, self._worker = self._worker, None
        working, self._working = self._working, None
        if worker is not None and working is not None:
            if self._executing:
                logger.warning("%d jobs still running at stop go back to SAQ", len(self._executing))
            # Cancels idle dequeues and any late job, which SAQ puts back in the queue.
            await worker.stop()
            await asyncio.gather(working, return_exceptions=True)
        try:
            await queue.disconnect()
        except (RedisError, OSError):
            # SAQ unsubscribes from Redis before it closes; with Redis gone, just close.
            await queue.redis.connection_pool.disconnect()

    async def _relay(self, queue: RedisQueue) -> None:
        backoff = self._poll_seconds
        while not self._stopping:
            try:
                room = self._batch - await queue.count("queued")
                handed = await self._hand_over(queue, room) if room > 0 else 0
            except Exception:  # the database or Redis may be down: keep relaying later
                logger.exception("could not hand jobs over to SAQ; trying again in %.1f s", backoff)
                await self._rest(backoff)
                backoff = min(backoff * 2, max(MAX_BACKOFF_SECONDS, self._poll_seconds))
                continue
            backoff = self._poll_seconds
            if handed < room or room <= 0:  # nothing else is due, or Redis has enough waiting
                await self._rest(self._poll_seconds)

    async def _hand_over(self, queue: RedisQueue, limit: int) -> int:
        jobs = await self._runner.claim(limit)
        for job in jobs:
            await queue.enqueue(
                saq.Job(
                    function=FUNCTION,
                    kwargs=_fields(job),
                    # The same attempt is enqueued once: SAQ ignores a key it already holds.
                    key=f"{job.id}:{job.attempts}",
                    timeout=self._timeout,
                    retries=1,
                    ttl=-1,  # the database keeps the record; Redis forgets a finished payload
                )
            )
        return len(jobs)

    async def _rest(self, seconds: float) -> None:
        """Until ``wake`` (or ``stop``) rings, or ``seconds`` pass; a ring meanwhile counts."""
        nudge = self._nudge
        if nudge is None:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(nudge.wait(), seconds)
        nudge.clear()

    async def _perform(
        self,
        ctx: Context,
        *,
        id: str,
        kind: str,
        payload: dict[str, Any],
        attempts: int,
        run_at: str,
        created_at: str,
    ) -> str:
        """SAQ's side: rebuild the claimed job and let the runner execute and record it."""
        job = Job(
            kind=kind,
            payload=payload,
            run_at=datetime.fromisoformat(run_at),
            created_at=datetime.fromisoformat(created_at),
            id=id,
            status=JobStatus.RUNNING,
            attempts=attempts,
        )
        task = asyncio.current_task()
        assert task is not None  # SAQ runs every job in a task of its own
        self._executing.add(task)
        try:
            if not await self._runner.take_up(job):
                return SUPERSEDED
            status = await self._runner.execute(job)
        finally:
            self._executing.discard(task)
            # Room in Redis, and whatever the job made due: the relay looks now, not at its
            # next poll (under load Redis would otherwise run dry between polls).
            self.wake()
        return status.value


def _fields(job: Job) -> dict[str, Any]:
    """What a worker needs to run the job, as JSON."""
    return {
        "id": job.id,
        "kind": job.kind,
        "payload": job.payload,
        "attempts": job.attempts,
        "run_at": job.run_at.isoformat(),
        "created_at": job.created_at.isoformat(),
    }
