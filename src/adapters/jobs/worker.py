"""The embedded job queue: an asyncio task in the app's own process, polling the database."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from talia_core.shared.jobs import Job, JobRunner, JobStatus

logger = logging.getLogger("talia.jobs")

MAX_BACKOFF_SECONDS = 30.0


class DatabaseJobQueue:
    """Claims due jobs from the database and runs up to ``concurrency`` of them at once.

    Several processes may each run one: claims are exclusive in the database. A job still
    running when ``stop`` stops waiting is cancelled and keeps its claim until the lease runs
    out; then it is claimed again, by this process after a restart or by another one.
    """

    def __init__(
        self,
        runner: JobRunner,
        *,
        concurrency: int = 4,
        batch: int = 32,
        poll_seconds: float = 1.0,
        stop_grace_seconds: float = 10.0,
    ) -> None:
        if concurrency < 1 or batch < 1:
            raise ValueError("concurrency and batch must be at least 1")
        if poll_seconds <= 0 or stop_grace_seconds < 0:
            raise ValueError("poll_seconds must be positive and stop_grace_seconds not negative")
        self._runner = runner
        self._concurrency = concurrency
        self._batch = batch
        self._poll_seconds = poll_seconds
        self._grace = stop_grace_seconds
        self._claiming: asyncio.Task[None] | None = None
        self._running: set[asyncio.Task[JobStatus]] = set()
        self._nudge: asyncio.Event | None = None
        self._stopping = False

    async def start(self) -> None:
        if self._claiming is not None:
            raise RuntimeError("the job queue is already running")
        self._stopping = False
        self._nudge = asyncio.Event()
        self._claiming = asyncio.create_task(self._claim_loop(), name="talia-jobs-claim")

    def wake(self) -> None:
        if self._nudge is not None:
            self._nudge.set()

    async def stop(self) -> None:
        claiming, self._claiming = self._claiming, None
        if claiming is None:
            return
        self._stopping = True
        self.wake()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._grace
        # A claim under way ends with its jobs started; nothing is claimed after it.
        await asyncio.wait({claiming}, timeout=self._grace)
        claiming.cancel()
        if self._running:
            await asyncio.wait(set(self._running), timeout=max(0.0, deadline - loop.time()))
        late = set(self._running)
        if late:
            logger.warning(
                "%d jobs still running at stop wait for their leases to run out", len(late)
            )
        for task in late:
            task.cancel()
        await asyncio.gather(claiming, *late, return_exceptions=True)

    async def _claim_loop(self) -> None:
        backoff = self._poll_seconds
        while not self._stopping:
            free = self._concurrency - len(self._running)
            if free <= 0:
                await asyncio.wait(set(self._running), return_when=asyncio.FIRST_COMPLETED)
                continue
            limit = min(self._batch, free)
            try:
                jobs = await self._runner.claim(limit)
            except Exception:  # the database may be down: keep the loop, try again later
                logger.exception("could not claim jobs; trying again in %.1f s", backoff)
                await self._rest(backoff)
                backoff = min(backoff * 2, max(MAX_BACKOFF_SECONDS, self._poll_seconds))
                continue
            backoff = self._poll_seconds
            for job in jobs:
                self._execute(job)
            if len(jobs) < limit:  # nothing else is due: wait for a wake or the next poll
                await self._rest(self._poll_seconds)

    async def _rest(self, seconds: float) -> None:
        """Until ``wake`` (or ``stop``) rings, or ``seconds`` pass; a ring during a claim counts."""
        nudge = self._nudge
        if nudge is None:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(nudge.wait(), seconds)
        nudge.clear()

    def _execute(self, job: Job) -> None:
        task = asyncio.create_task(self._runner.execute(job), name=f"talia-job-{job.id}")
        self._running.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[JobStatus]) -> None:
        self._running.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            logger.error(
                "could not record how %s ended; it runs again when its lease runs out",
                task.get_name(),
                exc_info=error,
            )
