"""The job-queue contract against each runtime, and what only one runtime promises.

The database worker runs over the in-memory store and over SQLite; SAQ runs against the real
Redis at TALIA_TEST_REDIS_URL (default DB 15), one fresh queue name per test.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from datetime import timedelta
from functools import partial
from types import TracebackType
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

from adapters.jobs.saq import SaqJobQueue
from adapters.jobs.worker import DatabaseJobQueue
from adapters.memory.database import InMemoryDatabase
from adapters.memory.unit_of_work import InMemoryUnitOfWork
from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWork
from talia_core.shared.clock import SystemClock
from talia_core.shared.errors import ExternalServiceUnavailable
from talia_core.shared.jobs import JobRunner, JobStatus
from tests.conftest import Engines
from tests.contracts.jobs.job_queue import (
    LEASE,
    POLL,
    Database,
    JobQueueContract,
    MakeQueue,
    Probe,
    a_job,
    backoff,
    commit,
    eventually,
    reaches,
    stored,
)
from tests.databases import empty_tables, unavailable

REDIS_URL = os.environ.get("TALIA_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")

# SAQ 0.26 still calls redis-py's deprecated ``setex``; the warning is theirs to fix.
pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated setex:DeprecationWarning")


def database_queue(
    runner: JobRunner, *, poll_seconds: float = POLL, stop_grace_seconds: float = 1.0
) -> DatabaseJobQueue:
    return DatabaseJobQueue(
        runner, poll_seconds=poll_seconds, stop_grace_seconds=stop_grace_seconds
    )


def in_memory() -> Database:
    return partial(InMemoryUnitOfWork, InMemoryDatabase())


class DatabaseJobQueueInMemoryTests(JobQueueContract):
    @pytest.fixture
    def database(self) -> Database:
        return in_memory()

    @pytest.fixture
    def make_queue(self) -> MakeQueue:
        return database_queue


class DatabaseJobQueueOnSqliteTests(JobQueueContract):
    @pytest.fixture
    async def database(self, engines: Engines) -> AsyncIterator[Database]:
        engine = await engines.get("sqlite")
        yield partial(SqlAlchemyUnitOfWork, engine)
        await empty_tables(engine)

    @pytest.fixture
    def make_queue(self) -> MakeQueue:
        return database_queue


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client = Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except (RedisError, OSError) as error:
        await client.aclose()
        unavailable("redis", error)
    yield client
    await client.aclose()


@pytest.fixture
async def queue_name(redis: Redis) -> AsyncIterator[str]:
    """A SAQ queue of this test only; its keys are deleted afterwards."""
    name = f"talia-test-{uuid.uuid4().hex}"
    yield name
    for pattern in (f"saq:{name}:*", f"saq:job:{name}:*"):
        keys = [key async for key in redis.scan_iter(match=pattern)]
        if keys:
            await redis.delete(*keys)


class SaqJobQueueTests(JobQueueContract):
    @pytest.fixture
    def database(self) -> Database:
        return in_memory()

    @pytest.fixture
    def make_queue(self, queue_name: str) -> MakeQueue:
        def make(
            runner: JobRunner, *, poll_seconds: float = POLL, stop_grace_seconds: float = 1.0
        ) -> SaqJobQueue:
            return SaqJobQueue(
                runner,
                redis_url=REDIS_URL,
                queue_name=queue_name,
                poll_seconds=poll_seconds,
                stop_grace_seconds=stop_grace_seconds,
            )

        return make


def probe_runner(database: Database, probe: Probe) -> JobRunner:
    return JobRunner(database, SystemClock(), probe.handlers(), backoff, lease=LEASE)


async def connections_named(redis: Redis, name: str) -> int:
    return sum(1 for client in await redis.client_list() if client.get("name") == name)


async def test_stopping_a_saq_queue_closes_its_redis_connections(
    redis: Redis, queue_name: str
) -> None:
    database, probe = in_memory(), Probe()
    client_name = f"talia-test-{uuid.uuid4().hex}"
    separator = "&" if "?" in REDIS_URL else "?"
    queue = SaqJobQueue(
        probe_runner(database, probe),
        redis_url=f"{REDIS_URL}{separator}client_name={client_name}",
        queue_name=queue_name,
        poll_seconds=POLL,
    )
    await queue.start()
    job = a_job("ok")
    await commit(database, job)
    queue.wake()
    await reaches(database, job, JobStatus.DONE)
    assert await connections_named(redis, client_name) > 0

    await queue.stop()

    # The server drops a closed connection from its list a moment after the client closes it.
    for _ in range(50):
        if await connections_named(redis, client_name) == 0:
            break
        await asyncio.sleep(0.02)
    assert await connections_named(redis, client_name) == 0


async def test_a_relay_only_saq_queue_leaves_the_running_to_the_workers(
    redis: Redis, queue_name: str
) -> None:
    database, probe = in_memory(), Probe()
    relay = SaqJobQueue(
        probe_runner(database, probe),
        redis_url=REDIS_URL,
        queue_name=queue_name,
        poll_seconds=POLL,
        run_worker=False,
    )
    worker = SaqJobQueue(probe_runner(database, probe), redis_url=REDIS_URL, queue_name=queue_name)
    await relay.start()
    try:
        job = a_job("ok")
        await commit(database, job)
        relay.wake()
        await reaches(database, job, JobStatus.RUNNING)  # claimed and handed over to SAQ
        await asyncio.sleep(0.2)
        assert await redis.llen(f"saq:{queue_name}:queued") == 1
        assert probe.calls == []

        await worker.start()

        await reaches(database, job, JobStatus.DONE)
        assert probe.calls == [("ok", 1)]
    finally:
        await worker.stop()
        await relay.stop()


async def test_a_saq_worker_hands_over_more_jobs_as_it_finishes_them_not_at_its_next_poll(
    redis: Redis, queue_name: str
) -> None:
    database, probe = in_memory(), Probe()
    queue = SaqJobQueue(
        probe_runner(database, probe),
        redis_url=REDIS_URL,
        queue_name=queue_name,
        batch=2,
        poll_seconds=30.0,
    )
    jobs = [a_job("slow", n, seconds=0.2) for n in range(8)]  # 4 run at once, 2 wait in Redis
    await commit(database, *jobs)
    await queue.start()
    try:
        queue.wake()
        for job in jobs:
            await reaches(database, job, JobStatus.DONE, within=3.0)
    finally:
        await queue.stop()

    assert sorted(probe.finished) == list(range(8))


async def test_a_job_that_waited_in_redis_past_its_lease_runs_once(
    redis: Redis, queue_name: str
) -> None:
    database, probe = in_memory(), Probe()
    lease = timedelta(seconds=0.3)
    runner = JobRunner(database, SystemClock(), probe.handlers(), backoff, lease=lease)
    relay = SaqJobQueue(runner, redis_url=REDIS_URL, queue_name=queue_name, run_worker=False)
    worker = SaqJobQueue(runner, redis_url=REDIS_URL, queue_name=queue_name, poll_seconds=POLL)
    await relay.start()
    try:
        job = a_job("ok")
        await commit(database, job)
        relay.wake()
        await reaches(database, job, JobStatus.RUNNING)
        await asyncio.sleep(lease.total_seconds())
        relay.wake()  # its lease ran out while no worker ran: it is claimed again

        async def handed_over_twice() -> bool:
            return await redis.llen(f"saq:{queue_name}:queued") == 2

        await eventually(handed_over_twice, within=2.0, what="the job enqueued again")
        await worker.start()

        await reaches(database, job, JobStatus.DONE)
        await asyncio.sleep(0.2)  # the older copy, dequeued too, is skipped
    finally:
        await worker.stop()
        await relay.stop()

    assert probe.calls == [("ok", 1)]
    assert (await stored(database, job)).attempts == 2
    assert await redis.llen(f"saq:{queue_name}:queued") == 0


async def test_a_saq_queue_whose_redis_is_down_waits_without_spinning_and_claims_nothing(
    unused_tcp_port: int,
) -> None:
    database, probe = in_memory(), Probe()
    job = a_job("ok")
    await commit(database, job)
    queue = SaqJobQueue(
        probe_runner(database, probe),
        redis_url=f"redis://127.0.0.1:{unused_tcp_port}/0",
        poll_seconds=POLL,
    )
    cpu = time.process_time()

    await queue.start()
    await asyncio.sleep(0.5)
    await queue.stop()

    assert time.process_time() - cpu < 0.25  # SAQ alone asks again at once, on a full core
    assert (await stored(database, job)).status is JobStatus.PENDING


class Outage:
    """A unit-of-work factory whose database refuses the first ``failures`` connections."""

    def __init__(self, database: InMemoryDatabase, failures: int) -> None:
        self.database = database
        self.failures = failures

    def __call__(self, *, read_only: bool = False) -> Any:
        if self.failures > 0:
            self.failures -= 1
            return Refused()
        return InMemoryUnitOfWork(self.database, read_only=read_only)


class Refused:
    async def __aenter__(self) -> Refused:
        raise ExternalServiceUnavailable("database", "connection refused")

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None


async def test_the_database_worker_keeps_going_when_the_database_is_down_for_a_while() -> None:
    database, probe = InMemoryDatabase(), Probe()
    outage = Outage(database, failures=3)
    job = a_job("ok")
    await commit(partial(InMemoryUnitOfWork, database), job)
    queue = database_queue(probe_runner(outage, probe))

    await queue.start()
    try:
        await reaches(partial(InMemoryUnitOfWork, database), job, JobStatus.DONE, within=2.0)
    finally:
        await queue.stop()

    assert outage.failures == 0
    assert probe.calls == [("ok", 1)]


async def test_the_database_worker_claims_no_more_jobs_than_it_can_run_at_once() -> None:
    database = in_memory()
    running = 0
    seen: list[tuple[int, int]] = []  # (handlers running, jobs claimed in the database)

    async def slow(payload: Mapping[str, Any]) -> None:
        nonlocal running
        running += 1
        claimed = (await JobRunner(database, SystemClock(), {}, backoff).counts()).get(
            JobStatus.RUNNING, 0
        )
        seen.append((running, claimed))
        await asyncio.sleep(0.05)
        running -= 1

    jobs = [a_job("slow", n) for n in range(8)]
    await commit(database, *jobs)
    queue = DatabaseJobQueue(
        JobRunner(database, SystemClock(), {"slow": slow}, backoff),
        concurrency=2,
        poll_seconds=POLL,
    )

    await queue.start()
    try:
        for job in jobs:
            await reaches(database, job, JobStatus.DONE)
    finally:
        await queue.stop()

    assert len(seen) == 8
    assert max(handlers for handlers, _ in seen) == 2
    assert max(claimed for _, claimed in seen) <= 2


async def test_stopping_a_queue_that_never_started_does_nothing() -> None:
    database, probe = in_memory(), Probe()
    job = a_job("ok")
    await commit(database, job)

    await database_queue(probe_runner(database, probe)).stop()
    await SaqJobQueue(probe_runner(database, probe), redis_url=REDIS_URL).stop()

    assert (await stored(database, job)).status is JobStatus.PENDING
