"""The contract every ``JobQueue`` passes: the embedded database worker and SAQ on Redis.

Subclass ``JobQueueContract`` and provide two fixtures: ``database`` (a unit-of-work factory
over an empty job store) and ``make_queue`` (a ``MakeQueue``: a queue over the given runner;
the queues it makes in one test share their backing, e.g. one Redis queue name, as the
processes of one deployment do). Time is real and kept short: every test ends in a second or
two, and a queue polls every ``POLL`` seconds unless a test says otherwise.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Any, Protocol

import pytest

from talia_core.shared.clock import SystemClock
from talia_core.shared.errors import ExternalServiceUnavailable, TaliaError
from talia_core.shared.jobs import (
    Job,
    JobHandler,
    JobQueue,
    JobRunner,
    JobStatus,
    JobsUnitOfWork,
)
from talia_core.shared.ports import UnitOfWorkFactory

Database = UnitOfWorkFactory[JobsUnitOfWork]

POLL = 0.05
ATTEMPTS = 3
RETRY_SECONDS = 0.2
LEASE = timedelta(seconds=30)


class MakeQueue(Protocol):
    def __call__(
        self, runner: JobRunner, *, poll_seconds: float = POLL, stop_grace_seconds: float = 1.0
    ) -> JobQueue: ...


class StartQueue(Protocol):
    async def __call__(
        self, runner: JobRunner, *, poll_seconds: float = POLL, stop_grace_seconds: float = 1.0
    ) -> JobQueue: ...


def backoff(failed_attempts: int, error: TaliaError | None) -> float | None:
    """A fixed pause, so that a test can tell a retry waited for it."""
    return RETRY_SECONDS if failed_attempts < ATTEMPTS else None


class Probe:
    """Job handlers that record every call, in the order the calls began."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.call_times: list[float] = []
        self.failing = True
        self.started = asyncio.Event()
        self.finished: list[Any] = []
        self._never = asyncio.Event()

    def handlers(self) -> Mapping[str, JobHandler]:
        return {"ok": self._ok, "flaky": self._flaky, "slow": self._slow, "hang": self._hang}

    def calls_of(self, kind: str) -> list[Any]:
        return [n for called, n in self.calls if called == kind]

    def _record(self, kind: str, payload: Mapping[str, Any]) -> None:
        self.calls.append((kind, payload["n"]))
        self.call_times.append(asyncio.get_running_loop().time())
        self.started.set()

    async def _ok(self, payload: Mapping[str, Any]) -> None:
        self._record("ok", payload)

    async def _flaky(self, payload: Mapping[str, Any]) -> None:
        self._record("flaky", payload)
        if self.failing:
            raise ExternalServiceUnavailable("crm", f"down on call {len(self.calls)}")

    async def _slow(self, payload: Mapping[str, Any]) -> None:
        self._record("slow", payload)
        await asyncio.sleep(payload["seconds"])
        self.finished.append(payload["n"])

    async def _hang(self, payload: Mapping[str, Any]) -> None:
        """The first call never ends by itself (a stuck provider); later ones return at once."""
        self._record("hang", payload)
        if len(self.calls_of("hang")) == 1:
            await self._never.wait()


def a_job(kind: str, n: int = 1, **payload: Any) -> Job:
    return Job.new(kind, {"n": n, **payload}, at=SystemClock().now())


async def commit(database: Database, *jobs: Job) -> None:
    async with database() as uow:
        for job in jobs:
            await uow.jobs.add(job)
        await uow.commit()


async def stored(database: Database, job: Job) -> Job:
    async with database(read_only=True) as uow:
        return await uow.jobs.get(job.id)


async def eventually(
    check: Callable[[], Awaitable[bool]], *, within: float = 1.5, what: str = "the condition"
) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"{what} did not happen within {within} s")
        await asyncio.sleep(0.02)


async def reaches(database: Database, job: Job, status: JobStatus, *, within: float = 1.5) -> Job:
    async def check() -> bool:
        return (await stored(database, job)).status is status

    await eventually(check, within=within, what=f"job {job.kind} becoming {status.value}")
    return await stored(database, job)


class JobQueueContract:
    @pytest.fixture
    def probe(self) -> Probe:
        return Probe()

    @pytest.fixture
    def runner(self, database: Database, probe: Probe) -> Callable[..., JobRunner]:
        """Runners over the test's database, as each process of a deployment has its own."""

        def make(*, lease: timedelta = LEASE) -> JobRunner:
            return JobRunner(database, SystemClock(), probe.handlers(), backoff, lease=lease)

        return make

    @pytest.fixture
    async def start(self, make_queue: MakeQueue) -> AsyncIterator[StartQueue]:
        """Starts queues, and stops every one of them after the test, whatever happened."""
        queues: list[JobQueue] = []

        async def start(
            runner: JobRunner, *, poll_seconds: float = POLL, stop_grace_seconds: float = 1.0
        ) -> JobQueue:
            queue = make_queue(
                runner, poll_seconds=poll_seconds, stop_grace_seconds=stop_grace_seconds
            )
            await queue.start()
            queues.append(queue)
            return queue

        yield start
        for queue in queues:
            await queue.stop()

    async def test_a_committed_job_runs_exactly_once(
        self, database: Database, probe: Probe, runner: Callable[..., JobRunner], start: StartQueue
    ) -> None:
        queue = await start(runner())
        job = a_job("ok")
        await commit(database, job)
        queue.wake()

        done = await reaches(database, job, JobStatus.DONE)
        await asyncio.sleep(5 * POLL)

        assert probe.calls == [("ok", 1)]
        assert (done.attempts, done.last_error) == (1, None)
        assert (await stored(database, job)).status is JobStatus.DONE

    async def test_jobs_committed_before_the_queue_starts_run_once_it_starts(
        self, database: Database, probe: Probe, runner: Callable[..., JobRunner], start: StartQueue
    ) -> None:
        jobs = [a_job("ok", n) for n in range(3)]
        await commit(database, *jobs)

        await start(runner())

        for job in jobs:
            await reaches(database, job, JobStatus.DONE)
        assert sorted(probe.calls_of("ok")) == [0, 1, 2]

    async def test_a_second_queue_picks_up_what_the_first_left_pending(
        self, database: Database, probe: Probe, runner: Callable[..., JobRunner], start: StartQueue
    ) -> None:
        first = await start(runner())
        before, after = a_job("ok", 1), a_job("ok", 2)
        await commit(database, before)
        await reaches(database, before, JobStatus.DONE)
        await first.stop()

        await commit(database, after)
        await asyncio.sleep(5 * POLL)
        assert (await stored(database, after)).status is JobStatus.PENDING

        await start(runner())
        await reaches(database, after, JobStatus.DONE)
        assert probe.calls_of("ok") == [1, 2]

    async def test_a_job_whose_worker_died_runs_again_once_its_lease_runs_out(
        self, database: Database, probe: Probe, runner: Callable[..., JobRunner], start: StartQueue
    ) -> None:
        job = a_job("ok")
        await commit(database, job)
        crashed = runner(lease=timedelta(seconds=0.5))
        assert [claimed.id for claimed in await crashed.claim(1)] == [job.id]  # and never ran

        await start(runner())
        await asyncio.sleep(0.2)
        assert probe.calls == []
        assert (await stored(database, job)).status is JobStatus.RUNNING

        done = await reaches(database, job, JobStatus.DONE)
        assert probe.calls == [("ok", 1)]
        assert done.attempts == 2

    async def test_a_failing_job_is_retried_after_the_backoff_and_ends_dead_with_its_last_error(
        self, database: Database, probe: Probe, runner: Callable[..., JobRunner], start: StartQueue
    ) -> None:
        await start(runner())
        job = a_job("flaky")
        await commit(database, job)

        dead = await reaches(database, job, JobStatus.DEAD)

        assert len(probe.calls) == ATTEMPTS
        gaps = [b - a for a, b in zip(probe.call_times, probe.call_times[1:], strict=False)]
        assert all(gap >= RETRY_SECONDS - 0.01 for gap in gaps), gaps
        assert dead.attempts == ATTEMPTS
        assert dead.last_error == f"ExternalServiceUnavailable: crm: down on call {ATTEMPTS}"
        assert dead.finished_at is not None
        await asyncio.sleep(RETRY_SECONDS + 2 * POLL)
        assert len(probe.calls) == ATTEMPTS

    async def test_an_admin_retry_revives_a_dead_job_and_it_runs(
        self, database: Database, probe: Probe, runner: Callable[..., JobRunner], start: StartQueue
    ) -> None:
        admin = runner()
        queue = await start(runner())
        job = a_job("flaky")
        await commit(database, job)
        await reaches(database, job, JobStatus.DEAD)
        probe.failing = False

        await admin.retry(job.id)
        queue.wake()

        done = await reaches(database, job, JobStatus.DONE)
        assert len(probe.calls) == ATTEMPTS + 1
        assert (done.attempts, done.last_error) == (1, None)

    async def test_a_slow_job_finishes_within_the_grace_of_stop(
        self, database: Database, probe: Probe, runner: Callable[..., JobRunner], start: StartQueue
    ) -> None:
        queue = await start(runner(), stop_grace_seconds=2.0)
        job = a_job("slow", seconds=0.3)
        await commit(database, job)
        queue.wake()
        await asyncio.wait_for(probe.started.wait(), 1.0)

        began = asyncio.get_running_loop().time()
        await queue.stop()

        assert asyncio.get_running_loop().time() - began < 1.5
        assert probe.finished == [1]
        assert (await stored(database, job)).status is JobStatus.DONE

    async def test_a_job_still_running_when_the_grace_ends_runs_again_after_a_restart(
        self, database: Database, probe: Probe, runner: Callable[..., JobRunner], start: StartQueue
    ) -> None:
        queue = await start(runner(lease=timedelta(seconds=0.5)), stop_grace_seconds=0.1)
        job = a_job("hang")
        await commit(database, job)
        queue.wake()
        await asyncio.wait_for(probe.started.wait(), 1.0)

        began = asyncio.get_running_loop().time()
        await queue.stop()
        assert asyncio.get_running_loop().time() - began < 1.0
        assert (await stored(database, job)).status is JobStatus.RUNNING

        await start(runner(lease=timedelta(seconds=0.5)))
        await reaches(database, job, JobStatus.DONE)
        assert probe.calls_of("hang") == [1, 1]

    async def test_wake_runs_a_new_job_long_before_the_next_poll(
        self, database: Database, probe: Probe, runner: Callable[..., JobRunner], start: StartQueue
    ) -> None:
        queue = await start(runner(), poll_seconds=10.0)
        await asyncio.sleep(0.1)  # it found nothing due and waits for the next poll
        job = a_job("ok")
        await commit(database, job)

        queue.wake()

        await reaches(database, job, JobStatus.DONE, within=1.0)

    async def test_two_queues_running_at_once_never_run_the_same_job_twice(
        self, database: Database, probe: Probe, runner: Callable[..., JobRunner], start: StartQueue
    ) -> None:
        jobs = [a_job("slow", n, seconds=0.01) for n in range(24)]
        await commit(database, *jobs)

        await asyncio.gather(start(runner()), start(runner()))

        for job in jobs:
            await reaches(database, job, JobStatus.DONE)
        assert Counter(probe.calls_of("slow")) == Counter(range(24))

    async def test_a_job_of_an_unknown_kind_ends_dead_without_retries(
        self, database: Database, probe: Probe, runner: Callable[..., JobRunner], start: StartQueue
    ) -> None:
        await start(runner())
        job = a_job("nobody-handles-this")
        await commit(database, job)

        dead = await reaches(database, job, JobStatus.DEAD)

        assert dead.attempts == 1
        assert dead.last_error == "UnknownJobKind: no handler for job kind 'nobody-handles-this'"
        assert probe.calls == []
