"""The rules of durable jobs: claims and leases, retries with backoff, dead jobs, admin retry."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.memory.database import InMemoryDatabase
from adapters.memory.unit_of_work import InMemoryUnitOfWork
from talia_core.resilience.model import RetryPolicy, retry_delay
from talia_core.shared.clock import FakeClock, SystemClock
from talia_core.shared.errors import (
    CallNotAttempted,
    Conflict,
    ExternalServiceUnavailable,
    NotFound,
    TaliaError,
)
from talia_core.shared.jobs import (
    FORGET_BATCH,
    MAX_ERROR_LENGTH,
    Job,
    JobRunner,
    JobStatus,
    JobsUnitOfWork,
    RetryDelay,
)
from talia_core.shared.pagination import PageRequest
from talia_core.shared.ports import UnitOfWorkFactory

Database = UnitOfWorkFactory[JobsUnitOfWork]

LEASE = timedelta(seconds=60)
START = FakeClock().current


def backoff(policy: RetryPolicy, random: Callable[[], float]) -> RetryDelay:
    """The resilience schedule as a job's retry delay, honouring a provider's retry-after."""

    def delay(failed_attempts: int, error: TaliaError | None) -> float | None:
        hint = error.retry_after_seconds if isinstance(error, ExternalServiceUnavailable) else None
        return retry_delay(policy, failed_attempts, random, hint)

    return delay


def policy(max_attempts: int = 3, **overrides: float) -> RetryPolicy:
    fields: dict[str, Any] = {
        "base_delay_seconds": 10.0,
        "max_delay_seconds": 60.0,
        "multiplier": 2.0,
        "max_retry_after_seconds": 300.0,
        **overrides,
    }
    return RetryPolicy(max_attempts=max_attempts, **fields)


class Handlers:
    """A ``work`` handler that records its payloads and raises ``failure`` while it is set."""

    def __init__(self) -> None:
        self.payloads: list[Mapping[str, Any]] = []
        self.failure: Exception | None = None

    def table(self) -> dict[str, Callable[[Mapping[str, Any]], Any]]:
        return {"work": self._work}

    async def _work(self, payload: Mapping[str, Any]) -> None:
        self.payloads.append(payload)
        if self.failure is not None:
            raise self.failure


class Asked:
    """A retry delay that remembers what it was asked."""

    def __init__(self, delay: RetryDelay) -> None:
        self.questions: list[tuple[int, TaliaError | None]] = []
        self._delay = delay

    def __call__(self, failed_attempts: int, error: TaliaError | None) -> float | None:
        self.questions.append((failed_attempts, error))
        return self._delay(failed_attempts, error)


def fresh_database() -> Database:
    return partial(InMemoryUnitOfWork, InMemoryDatabase())


@pytest.fixture
def database() -> Database:
    return fresh_database()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def handlers() -> Handlers:
    return Handlers()


def a_runner(
    database: Database,
    clock: FakeClock,
    handlers: Handlers,
    delay: RetryDelay | None = None,
    **options: Any,
) -> JobRunner:
    return JobRunner(
        database,
        clock,
        handlers.table(),
        delay or backoff(policy(), lambda: 0.5),
        lease=LEASE,
        **options,
    )


def a_job(n: int = 1, *, kind: str = "work", delay: timedelta = timedelta(0)) -> Job:
    return Job.new(kind, {"n": n}, at=START, delay=delay)


async def commit(database: Database, *jobs: Job) -> None:
    async with database() as uow:
        for job in jobs:
            await uow.jobs.add(job)
        await uow.commit()


async def stored(database: Database, job: Job) -> Job:
    async with database(read_only=True) as uow:
        return await uow.jobs.get(job.id)


# The job itself


def test_a_new_job_is_due_at_its_run_at_and_not_before() -> None:
    job = a_job(delay=timedelta(seconds=30))
    assert not job.is_due(START + timedelta(seconds=29))
    assert job.is_due(START + timedelta(seconds=30))


@given(
    delay=st.integers(0, 3_600),
    waited=st.integers(-3_600, 86_400),
)
def test_a_job_placed_in_line_from_earlier_keeps_its_delay_from_then_and_never_moves_later(
    delay: int, waited: int
) -> None:
    job = Job.new("work", {}, at=START, delay=timedelta(seconds=delay))
    since = START - timedelta(seconds=waited)

    job.in_line_from(since)

    assert job.created_at == START
    assert job.run_at == min(START, since) + timedelta(seconds=delay)


def test_a_started_job_runs_under_a_lease_and_lets_go_of_its_debounce_key() -> None:
    job = Job.new("work", {}, at=START, debounce_key="conversation:1")

    job.start(START, LEASE)

    assert (job.status, job.attempts) == (JobStatus.RUNNING, 1)
    assert job.locked_until == START + LEASE
    assert job.debounce_key is None
    assert not job.is_due(START + LEASE - timedelta(seconds=1))
    assert job.is_due(START + LEASE)  # its worker died: it may be taken again


@pytest.mark.parametrize("ended", ["done", "dead", "leased", "later"])
def test_starting_a_job_that_is_not_due_is_a_conflict(ended: str) -> None:
    job = a_job(delay=timedelta(seconds=30) if ended == "later" else timedelta(0))
    if ended != "later":
        job.start(START, LEASE)
    if ended == "done":
        job.succeed(START)
    elif ended == "dead":
        job.fail("boom", START, None)
    with pytest.raises(Conflict):
        job.start(START + timedelta(seconds=1), LEASE)


def test_a_failure_with_a_delay_puts_the_job_back_to_wait_for_it() -> None:
    job = a_job()
    job.start(START, LEASE)

    job.fail("timeout", START + timedelta(seconds=2), 10.0)

    assert job.status is JobStatus.PENDING
    assert job.run_at == START + timedelta(seconds=12)
    assert (job.locked_until, job.finished_at, job.last_error) == (None, None, "timeout")


def test_a_failure_without_a_delay_kills_the_job_and_a_long_error_is_cut() -> None:
    job = a_job()
    job.start(START, LEASE)

    job.fail("x" * (MAX_ERROR_LENGTH + 50), START, None)

    assert job.status is JobStatus.DEAD
    assert job.finished_at == START
    assert job.last_error == "x" * MAX_ERROR_LENGTH


def test_only_a_dead_job_can_be_revived_and_it_starts_afresh() -> None:
    job = a_job()
    with pytest.raises(Conflict):
        job.revive(START)
    job.start(START, LEASE)
    job.fail("boom", START, None)

    job.revive(START + timedelta(hours=1))

    assert (job.status, job.attempts, job.finished_at) == (JobStatus.PENDING, 0, None)
    assert job.run_at == START + timedelta(hours=1)
    assert job.last_error == "boom"  # kept for the admin until the next attempt ends


# The runner


async def test_due_jobs_run_with_their_payload_and_end_done(
    database: Database, clock: FakeClock, handlers: Handlers
) -> None:
    runner = a_runner(database, clock, handlers)
    first, second = a_job(1), a_job(2)
    await commit(database, first, second)

    assert await runner.run_due(10) == 2

    assert sorted(payload["n"] for payload in handlers.payloads) == [1, 2]
    for job in (first, second):
        done = await stored(database, job)
        assert (done.status, done.attempts, done.finished_at) == (JobStatus.DONE, 1, START)
    assert await runner.run_due(10) == 0


async def test_a_job_not_yet_due_is_left_waiting(
    database: Database, clock: FakeClock, handlers: Handlers
) -> None:
    runner = a_runner(database, clock, handlers)
    job = a_job(delay=timedelta(minutes=5))
    await commit(database, job)

    assert await runner.claim(10) == []
    clock.advance(timedelta(minutes=5))
    assert [claimed.id for claimed in await runner.claim(10)] == [job.id]


async def test_due_jobs_are_claimed_oldest_first_up_to_the_limit(
    database: Database, clock: FakeClock, handlers: Handlers
) -> None:
    runner = a_runner(database, clock, handlers)
    jobs = [a_job(n, delay=timedelta(seconds=10 - n)) for n in range(4)]
    await commit(database, *jobs)
    clock.advance(timedelta(seconds=10))

    claimed = await runner.claim(3)

    assert [job.payload["n"] for job in claimed] == [3, 2, 1]
    assert all(job.status is JobStatus.RUNNING for job in claimed)
    assert (await stored(database, jobs[3])).status is JobStatus.RUNNING


async def test_a_claimed_job_is_taken_again_only_once_its_lease_runs_out(
    database: Database, clock: FakeClock, handlers: Handlers
) -> None:
    runner = a_runner(database, clock, handlers)
    job = a_job()
    await commit(database, job)
    await runner.claim(1)  # this worker dies before it runs the job

    clock.advance(LEASE - timedelta(seconds=1))
    assert await runner.claim(1) == []
    clock.advance(timedelta(seconds=1))
    assert [claimed.attempts for claimed in await runner.claim(1)] == [2]


async def test_a_failed_attempt_waits_the_delay_the_policy_gives_and_then_runs_again(
    database: Database, clock: FakeClock, handlers: Handlers
) -> None:
    asked = Asked(lambda failed, error: 30.0)
    runner = a_runner(database, clock, handlers, asked)
    job = a_job()
    await commit(database, job)
    failure = ExternalServiceUnavailable("crm", "down")
    handlers.failure = failure

    await runner.run_due(1)

    waiting = await stored(database, job)
    assert asked.questions == [(1, failure)]
    assert (waiting.status, waiting.run_at) == (JobStatus.PENDING, START + timedelta(seconds=30))
    assert waiting.last_error == "ExternalServiceUnavailable: crm: down"
    clock.advance(timedelta(seconds=29))
    assert await runner.run_due(1) == 0
    handlers.failure = None
    clock.advance(timedelta(seconds=1))
    assert await runner.run_due(1) == 1
    done = await stored(database, job)
    assert (done.status, done.attempts, done.last_error) == (JobStatus.DONE, 2, None)


async def test_the_retry_delay_is_told_the_core_error_and_nothing_of_a_stray_one(
    database: Database, clock: FakeClock, handlers: Handlers
) -> None:
    asked = Asked(lambda failed, error: 0.0)
    runner = a_runner(database, clock, handlers, asked)
    await commit(database, a_job())
    handlers.failure = KeyError("n")

    await runner.run_due(1)

    assert asked.questions == [(1, None)]


async def test_a_job_that_keeps_failing_dies_after_the_last_attempt_with_its_last_error(
    database: Database, clock: FakeClock, handlers: Handlers
) -> None:
    reported: list[tuple[str, str]] = []
    runner = a_runner(
        database,
        clock,
        handlers,
        backoff(policy(max_attempts=3), lambda: 0.5),
        on_error=lambda job, error: reported.append((job.id, str(error))),
    )
    job = a_job()
    await commit(database, job)

    for attempt in range(1, 4):
        handlers.failure = ExternalServiceUnavailable("crm", f"down #{attempt}")
        assert await runner.run_due(1) == 1
        clock.advance(timedelta(minutes=5))

    dead = await stored(database, job)
    assert (dead.status, dead.attempts) == (JobStatus.DEAD, 3)
    assert dead.last_error == "ExternalServiceUnavailable: crm: down #3"
    assert [error for _, error in reported] == [f"crm: down #{n}" for n in (1, 2, 3)]
    assert await runner.run_due(1) == 0
    assert len(handlers.payloads) == 3


async def test_a_job_of_an_unknown_kind_dies_at_once_without_asking_for_a_delay(
    database: Database, clock: FakeClock, handlers: Handlers
) -> None:
    asked = Asked(lambda failed, error: 1.0)
    runner = a_runner(database, clock, handlers, asked)
    job = a_job(kind="nobody-handles-this")
    await commit(database, job)

    await runner.run_due(1)

    dead = await stored(database, job)
    assert (dead.status, dead.attempts) == (JobStatus.DEAD, 1)
    assert dead.last_error == "UnknownJobKind: no handler for job kind 'nobody-handles-this'"
    assert asked.questions == []


async def test_a_worker_that_lost_its_lease_does_not_overwrite_the_attempt_that_took_over(
    database: Database, clock: FakeClock, handlers: Handlers
) -> None:
    runner = a_runner(database, clock, handlers)
    job = a_job()
    await commit(database, job)
    [slow] = await runner.claim(1)
    clock.advance(LEASE)
    [taken_over] = await runner.claim(1)
    handlers.failure = ExternalServiceUnavailable("crm", "down")

    assert await runner.execute(slow) is JobStatus.RUNNING

    current = await stored(database, job)
    assert (current.status, current.attempts, current.last_error) == (JobStatus.RUNNING, 2, None)
    handlers.failure = None
    assert await runner.execute(taken_over) is JobStatus.DONE


async def test_an_admin_retry_revives_a_dead_job_which_then_runs(
    database: Database, clock: FakeClock, handlers: Handlers
) -> None:
    runner = a_runner(database, clock, handlers, lambda failed, error: None)
    job = a_job()
    await commit(database, job)
    handlers.failure = ExternalServiceUnavailable("crm", "down")
    await runner.run_due(1)
    handlers.failure = None
    clock.advance(timedelta(hours=1))

    revived = await runner.retry(job.id)

    assert (revived.status, revived.attempts, revived.run_at) == (
        JobStatus.PENDING,
        0,
        START + timedelta(hours=1),
    )
    assert await runner.run_due(1) == 1
    assert (await stored(database, job)).status is JobStatus.DONE


async def test_only_dead_jobs_can_be_retried_by_an_admin(
    database: Database, clock: FakeClock, handlers: Handlers
) -> None:
    runner = a_runner(database, clock, handlers)
    job = a_job()
    await commit(database, job)

    with pytest.raises(Conflict):
        await runner.retry(job.id)
    with pytest.raises(NotFound):
        await runner.retry("no-such-job")
    assert (await stored(database, job)).status is JobStatus.PENDING


async def test_jobs_are_listed_newest_first_and_counted_by_status(
    database: Database, clock: FakeClock, handlers: Handlers
) -> None:
    runner = a_runner(database, clock, handlers, lambda failed, error: None)
    older = a_job(1)
    newer = Job.new("work", {"n": 2}, at=START + timedelta(seconds=1), delay=timedelta(hours=1))
    await commit(database, older, newer)
    handlers.failure = ExternalServiceUnavailable("crm", "down")
    await runner.run_due(10)

    everything = await runner.list(PageRequest())
    dead = await runner.list(PageRequest(), status=JobStatus.DEAD)

    assert [job.id for job in everything.items] == [newer.id, older.id]
    assert [job.id for job in dead.items] == [older.id]
    counts = await runner.counts()
    assert (counts.get(JobStatus.DEAD), counts.get(JobStatus.PENDING)) == (1, 1)
    assert counts.get(JobStatus.DONE, 0) == 0


# Backoff: the resilience schedule composed as a job's retry delay

policies = st.builds(
    RetryPolicy,
    max_attempts=st.integers(1, 6),
    base_delay_seconds=st.floats(0.5, 60),
    max_delay_seconds=st.floats(60, 3600),
    multiplier=st.floats(1, 4),
    max_retry_after_seconds=st.floats(1, 600),
)


@settings(max_examples=50, deadline=None)
@given(schedule=policies, random=st.floats(0, 1, exclude_max=True))
async def test_a_failing_job_waits_the_growing_capped_backoff_and_dies_at_the_last_attempt(
    schedule: RetryPolicy, random: float
) -> None:
    database, clock, handlers = fresh_database(), FakeClock(START), Handlers()
    runner = a_runner(database, clock, handlers, backoff(schedule, lambda: random))
    job = a_job()
    await commit(database, job)
    handlers.failure = RuntimeError("still failing")
    waits: list[float] = []

    while await runner.run_due(1):
        after = await stored(database, job)
        if after.status is JobStatus.PENDING:
            waits.append((after.run_at - clock.now()).total_seconds())
            clock.current = after.run_at

    dead = await stored(database, job)
    assert (dead.status, dead.attempts) == (JobStatus.DEAD, schedule.max_attempts)
    assert len(waits) == schedule.max_attempts - 1
    for failed, wait in enumerate(waits, start=1):
        ceiling = min(
            schedule.max_delay_seconds,
            schedule.base_delay_seconds * schedule.multiplier ** (failed - 1),
        )
        assert math.isclose(wait, random * ceiling, rel_tol=1e-6, abs_tol=1e-5)
        assert 0 <= wait <= schedule.max_delay_seconds
    assert waits == sorted(waits)


@settings(max_examples=50, deadline=None)
@given(retry_after=st.integers(1, 1200), random=st.floats(0, 1, exclude_max=True))
async def test_a_providers_retry_after_is_waited_at_least_or_the_job_gives_up(
    retry_after: int, random: float
) -> None:
    schedule = policy(max_attempts=5, max_retry_after_seconds=600.0)
    database, clock, handlers = fresh_database(), FakeClock(START), Handlers()
    runner = a_runner(database, clock, handlers, backoff(schedule, lambda: random))
    job = a_job()
    await commit(database, job)
    handlers.failure = ExternalServiceUnavailable("crm", "busy", retry_after_seconds=retry_after)

    await runner.run_due(1)

    after = await stored(database, job)
    if retry_after > schedule.max_retry_after_seconds:
        assert after.status is JobStatus.DEAD
    else:
        assert after.status is JobStatus.PENDING
        assert after.run_at - START >= timedelta(seconds=retry_after)


# The state machine under any interleaving of claims, finishes, lapsing leases and retries

steps = st.lists(
    st.one_of(
        st.tuples(st.just("advance"), st.sampled_from([1, 10, 30, 60, 300])),
        st.tuples(st.just("claim"), st.integers(1, 3)),
        st.tuples(st.just("finish"), st.integers(0, 5), st.booleans()),
        st.tuples(st.just("retry"), st.integers(0, 2)),
    ),
    min_size=10,
    max_size=40,
)


@settings(max_examples=75, deadline=None)
@given(steps=steps)
async def test_attempts_only_grow_a_dead_job_never_runs_and_a_job_is_done_at_most_once(
    steps: list[tuple[Any, ...]],
) -> None:
    database, clock, handlers = fresh_database(), FakeClock(START), Handlers()
    runner = a_runner(database, clock, handlers, backoff(policy(max_attempts=2), lambda: 0.5))
    jobs = [a_job(n) for n in range(3)]
    await commit(database, *jobs)
    claims: list[Job] = []

    async def snapshot() -> dict[str, Job]:
        return {job.id: await stored(database, job) for job in jobs}

    before = await snapshot()
    for step in steps:
        revived: str | None = None
        claimed: list[Job] = []
        if step[0] == "advance":
            clock.advance(timedelta(seconds=step[1]))
        elif step[0] == "claim":
            claimed = await runner.claim(step[1])
            claims.extend(claimed)
        elif step[0] == "finish" and claims:
            handlers.failure = None if step[2] else ExternalServiceUnavailable("crm", "down")
            await runner.execute(claims.pop(step[1] % len(claims)))
        elif step[0] == "retry":
            job = jobs[step[1]]
            dead = before[job.id].status is JobStatus.DEAD
            with nullcontext() if dead else pytest.raises(Conflict):
                await runner.retry(job.id)
                revived = job.id
        after = await snapshot()

        for key, now in after.items():
            then = before[key]
            if key == revived:
                assert (then.status, now.status, now.attempts) == (
                    JobStatus.DEAD,
                    JobStatus.PENDING,
                    0,
                )
                continue
            assert now.attempts >= then.attempts
            if then.status in (JobStatus.DEAD, JobStatus.DONE):
                assert now == then  # nothing runs it again, nothing records on it again
        for job in claimed:
            assert before[job.id].status not in (JobStatus.DEAD, JobStatus.DONE)
            assert after[job.id].attempts == before[job.id].attempts + 1
        before = after


# Outages: calls never made, the retry horizon, bulk retry, leases renewed while running


async def test_a_call_refused_by_an_open_breaker_spends_no_attempt_and_waits_for_the_breaker(
    database: Database, clock: FakeClock, handlers: Handlers
) -> None:
    runner = a_runner(database, clock, handlers, backoff(policy(max_attempts=2), lambda: 0.5))
    job = a_job()
    await commit(database, job)
    handlers.failure = CallNotAttempted("whatsapp", "circuit breaker is open", 45)

    for _ in range(20):
        clock.advance(timedelta(minutes=1))
        assert await runner.run_due(10) == 1

    found = await stored(database, job)
    assert (found.status, found.attempts) == (JobStatus.PENDING, 0)
    assert found.run_at == clock.now() + timedelta(seconds=45)


async def test_no_job_is_retried_past_its_horizon(
    database: Database, clock: FakeClock, handlers: Handlers
) -> None:
    runner = a_runner(database, clock, handlers, horizon=timedelta(hours=2))
    job = a_job()
    await commit(database, job)
    handlers.failure = CallNotAttempted("whatsapp", "circuit breaker is open", 600)

    while (await stored(database, job)).status is JobStatus.PENDING:
        clock.advance(timedelta(minutes=10))
        await runner.run_due(10)

    found = await stored(database, job)
    assert found.status is JobStatus.DEAD
    assert found.finished_at is not None
    assert found.finished_at <= START + timedelta(hours=2)


async def test_dead_jobs_are_retried_together_by_kind_and_since(
    database: Database, clock: FakeClock, handlers: Handlers
) -> None:
    runner = a_runner(database, clock, handlers, backoff(policy(max_attempts=1), lambda: 0.5))
    early, late, other = a_job(1), a_job(2), a_job(3, kind="other")
    handlers.failure = RuntimeError("provider down")
    await commit(database, early)
    await runner.run_due(10)
    clock.advance(timedelta(hours=1))
    outage = clock.now()
    await commit(database, late, other)
    await runner.run_due(10)

    assert await runner.retry_dead(kind="work", since=outage) == 1
    assert [(await stored(database, j)).status for j in (early, late, other)] == [
        JobStatus.DEAD,
        JobStatus.PENDING,
        JobStatus.DEAD,
    ]
    assert await runner.retry_dead() == 2
    assert (await stored(database, early)).attempts == 0


async def test_jobs_done_long_enough_ago_are_forgotten_in_batches_and_the_rest_kept(
    database: Database, clock: FakeClock, handlers: Handlers
) -> None:
    runner = a_runner(database, clock, handlers)
    old = [ended(a_job(n), START + timedelta(days=1)) for n in range(FORGET_BATCH + 1)]
    recent = ended(a_job(-1), START + timedelta(days=20))
    dead = a_job(-2)
    dead.start(START, LEASE)
    dead.fail("gone", START + timedelta(days=1), None)
    await commit(database, *old, recent, dead, a_job(-3))
    clock.advance(timedelta(days=35))

    assert await runner.forget_done(timedelta(days=30)) == FORGET_BATCH + 1  # two batches

    kept = await runner.list(PageRequest(limit=10))
    assert sorted(job.status.value for job in kept.items) == ["dead", "done", "pending"]
    assert recent.id in {job.id for job in kept.items}


def ended(job: Job, at: datetime) -> Job:
    job.start(START, LEASE)
    job.succeed(at)
    return job


async def test_a_job_running_longer_than_its_lease_keeps_it_while_it_runs(
    database: Database,
) -> None:
    release = asyncio.Event()
    started = asyncio.Event()

    async def slow(payload: Mapping[str, Any]) -> None:
        started.set()
        await release.wait()

    lease = timedelta(milliseconds=300)
    runner = JobRunner(database, SystemClock(), {"work": slow}, lambda n, e: 1.0, lease=lease)
    other = JobRunner(database, SystemClock(), {"work": slow}, lambda n, e: 1.0, lease=lease)
    await commit(database, Job.new("work", {}, at=SystemClock().now()))
    [job] = await runner.claim(1)
    running = asyncio.create_task(runner.execute(job))
    await started.wait()

    await asyncio.sleep(1.0)  # more than three leases
    assert await other.claim(1) == []
    release.set()
    assert await running is JobStatus.DONE


async def test_a_dead_workers_job_is_taken_over_once_its_lease_runs_out(
    database: Database,
) -> None:
    lease = timedelta(milliseconds=300)
    runner = JobRunner(database, SystemClock(), {}, lambda n, e: 1.0, lease=lease)
    await commit(database, Job.new("work", {}, at=SystemClock().now()))
    assert len(await runner.claim(1)) == 1  # and its worker dies: nothing renews it

    await asyncio.sleep(0.4)
    assert len(await runner.claim(1)) == 1
