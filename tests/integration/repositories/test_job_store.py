"""One contract for the job store: the in-memory fake and SQL on every database.

The races run on the real databases: they prove that the database (unique keys, and row
locks that other claimers skip) keeps a job once and gives it to one claimer.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWork
from talia_core.shared.errors import Conflict, NotFound
from talia_core.shared.jobs import Job, JobStatus, job_id_for
from talia_core.shared.pagination import PageRequest
from tests.conftest import UowFactory

T0 = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)
LEASE = timedelta(minutes=5)


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _job(
    kind: str = "conversations.deliver",
    *,
    created: float = 0,
    delay: float = 0,
    key: str | None = None,
    job_id: str | None = None,
) -> Job:
    return Job.new(
        kind,
        {"message_id": f"m-{created}"},
        at=_at(created),
        delay=timedelta(seconds=delay),
        debounce_key=key,
        job_id=job_id,
    )


async def _add(uow_factory: UowFactory, *jobs: Job) -> None:
    async with uow_factory() as uow:
        for job in jobs:
            assert await uow.jobs.add(job)
        await uow.commit()


async def _get(uow_factory: UowFactory, job_id: str) -> Job:
    async with uow_factory(read_only=True) as uow:
        return await uow.jobs.get(job_id)


async def _pending(uow_factory: UowFactory) -> list[Job]:
    async with uow_factory(read_only=True) as uow:
        found = await uow.jobs.find(PageRequest(), status=JobStatus.PENDING)
    return list(found.items)


async def test_a_job_reads_back_with_every_field(uow_factory: UowFactory) -> None:
    job = Job(
        kind="conversations.inbox",
        payload={
            "event": "message",
            "text": "¿Tienen invitaciones para boda? 💍",
            "sender": {"identities": [["wa_id", "51987654321"]], "name": None},
            "amount": 12.5,
            "ok": True,
        },
        run_at=_at(30),
        created_at=_at(0),
        id=job_id_for("inbox:whatsapp:message:wamid.1"),
        status=JobStatus.RUNNING,
        attempts=2,
        last_error="ExternalServiceUnavailable: whatsapp: 503 " + "x" * 400,
        locked_until=_at(330),
        finished_at=_at(31),
    )
    bare = _job(key="turn:c-1")
    await _add(uow_factory, job, bare)
    assert await _get(uow_factory, job.id) == job
    stored_bare = await _get(uow_factory, bare.id)
    assert stored_bare == bare
    assert (stored_bare.status, stored_bare.attempts, stored_bare.last_error) == (
        JobStatus.PENDING,
        0,
        None,
    )
    assert (stored_bare.locked_until, stored_bare.finished_at) == (None, None)


async def test_an_unknown_job_is_not_found(uow_factory: UowFactory) -> None:
    async with uow_factory(read_only=True) as uow:
        with pytest.raises(NotFound):
            await uow.jobs.get("0190a000-0000-7000-8000-000000000000")


async def test_a_job_id_is_added_once(uow_factory: UowFactory) -> None:
    job_id = job_id_for("inbox:whatsapp:message:wamid.1")
    first = _job(job_id=job_id)
    async with uow_factory() as uow:
        assert await uow.jobs.add(first) is True
        assert await uow.jobs.add(_job("other.kind", created=1, job_id=job_id)) is False
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.jobs.add(_job("other.kind", created=2, job_id=job_id)) is False
        assert await uow.jobs.add(_job(created=3)) is True  # the unit goes on
        await uow.commit()
    assert await _get(uow_factory, job_id) == first
    async with uow_factory(read_only=True) as uow:
        assert (await uow.jobs.find(PageRequest(), status=None)).total == 2


async def test_adding_a_job_with_a_pending_debounce_key_is_a_conflict(
    uow_factory: UowFactory,
) -> None:
    held = _job(key="turn:c-1")
    await _add(uow_factory, held)
    with pytest.raises(Conflict):
        async with uow_factory() as uow:
            await uow.jobs.add(_job(created=1, key="turn:c-1"))
    assert await _pending(uow_factory) == [held]


async def test_an_update_stores_the_jobs_state(uow_factory: UowFactory) -> None:
    job = _job(key="turn:c-1")
    await _add(uow_factory, job)
    async with uow_factory() as uow:
        stored = await uow.jobs.get(job.id)
        stored.start(_at(1), LEASE)
        await uow.jobs.update(stored)
        await uow.commit()
    running = await _get(uow_factory, job.id)
    assert running == stored
    assert (running.debounce_key, running.locked_until) == (None, _at(1) + LEASE)
    async with uow_factory() as uow:
        failed = await uow.jobs.get(job.id)
        failed.fail("boom", _at(2), retry_in=None)
        await uow.jobs.update(failed)
        await uow.commit()
    dead = await _get(uow_factory, job.id)
    assert dead == failed
    assert (dead.status, dead.last_error, dead.finished_at) == (JobStatus.DEAD, "boom", _at(2))


# ---------------------------------------------------------------------------------- schedule


async def test_schedule_postpones_the_pending_job_of_a_key_never_earlier(
    uow_factory: UowFactory,
) -> None:
    first = _job(created=0, delay=2, key="turn:c-1")
    async with uow_factory() as uow:
        await uow.jobs.schedule(first)
        await uow.jobs.schedule(_job(created=3, delay=2, key="turn:c-1"))
        await uow.commit()
    async with uow_factory() as uow:
        await uow.jobs.schedule(_job(created=1, delay=2, key="turn:c-1"))  # an earlier run_at
        await uow.jobs.schedule(_job(created=1, delay=2, key="turn:c-2"))
        await uow.commit()
    pending = await _pending(uow_factory)
    assert len(pending) == 2
    postponed = next(j for j in pending if j.debounce_key == "turn:c-1")
    assert postponed.id == first.id
    assert postponed.run_at == _at(5)
    assert postponed.created_at == _at(0)


async def test_schedule_sooner_brings_the_pending_job_of_a_key_forward_never_later(
    uow_factory: UowFactory,
) -> None:
    first = _job(created=5, key="outbox.relay")
    async with uow_factory() as uow:
        await uow.jobs.schedule(first, sooner=True)
        await uow.jobs.schedule(_job(created=2, key="outbox.relay"), sooner=True)
        await uow.jobs.schedule(_job(created=9, key="outbox.relay"), sooner=True)
        await uow.commit()

    [shared] = await _pending(uow_factory)
    assert (shared.id, shared.run_at, shared.created_at) == (first.id, _at(2), _at(5))


async def test_schedule_after_the_job_started_adds_a_new_job(uow_factory: UowFactory) -> None:
    first = _job(key="turn:c-1")
    async with uow_factory() as uow:
        await uow.jobs.schedule(first)
        await uow.commit()
    async with uow_factory() as uow:
        claimed = await uow.jobs.claim_due(_at(1), 10)
        assert [j.id for j in claimed] == [first.id]
        claimed[0].start(_at(1), LEASE)
        await uow.jobs.update(claimed[0])
        await uow.commit()
    later = _job(created=2, delay=2, key="turn:c-1")
    async with uow_factory() as uow:
        await uow.jobs.schedule(later)
        await uow.commit()
    assert await _pending(uow_factory) == [later]
    assert (await _get(uow_factory, first.id)).status is JobStatus.RUNNING


async def test_schedule_without_a_key_adds_every_job(uow_factory: UowFactory) -> None:
    jobs = [_job(created=n) for n in range(3)]
    async with uow_factory() as uow:
        for job in jobs:
            await uow.jobs.schedule(job)
        await uow.commit()
    assert {j.id for j in await _pending(uow_factory)} == {j.id for j in jobs}


# --------------------------------------------------------------------------------- claim_due


async def test_claim_due_takes_due_and_abandoned_jobs_oldest_first(
    uow_factory: UowFactory,
) -> None:
    now = _at(100)
    due_later = _job(created=50)
    due_first = _job(created=10)
    not_due = _job(created=90, delay=20)
    abandoned = _job(created=20)
    abandoned.start(_at(20), timedelta(seconds=60))  # its lease ran out at 80
    leased = _job(created=30)
    leased.start(_at(90), timedelta(seconds=60))
    done = _job(created=5)
    done.start(_at(5), LEASE)
    done.succeed(_at(6))
    dead = _job(created=6)
    dead.start(_at(6), LEASE)
    dead.fail("boom", _at(7), retry_in=None)
    retried = _job(created=7)
    retried.start(_at(7), LEASE)
    retried.fail("boom", _at(8), retry_in=92)  # due again at exactly 100
    await _add(uow_factory, due_later, due_first, not_due, abandoned, leased, done, dead, retried)

    async with uow_factory() as uow:
        claimed = await uow.jobs.claim_due(now, 10)
        first_two = await uow.jobs.claim_due(now, 2)
    assert [j.id for j in claimed] == [due_first.id, abandoned.id, due_later.id, retried.id]
    assert claimed[1] == abandoned
    assert [j.id for j in first_two] == [due_first.id, abandoned.id]


async def test_claim_due_finds_nothing_when_nothing_is_due(uow_factory: UowFactory) -> None:
    await _add(uow_factory, _job(delay=60))
    async with uow_factory() as uow:
        assert await uow.jobs.claim_due(_at(59), 10) == []


# ------------------------------------------------------------------------------ find, counts


async def test_jobs_list_newest_first_by_status_with_totals(uow_factory: UowFactory) -> None:
    jobs = [_job(created=n) for n in range(5)]
    jobs[1].start(_at(1), LEASE)
    jobs[3].start(_at(3), LEASE)
    jobs[3].fail("boom", _at(3), retry_in=None)
    await _add(uow_factory, *jobs)
    async with uow_factory(read_only=True) as uow:
        page = await uow.jobs.find(PageRequest(limit=2, offset=1), status=None)
        pending = await uow.jobs.find(PageRequest(), status=JobStatus.PENDING)
        past = await uow.jobs.find(PageRequest(limit=2, offset=9), status=JobStatus.DEAD)
    assert [j.id for j in page.items] == [jobs[3].id, jobs[2].id]
    assert page.items[0] == jobs[3]
    assert page.total == 5
    assert [j.id for j in pending.items] == [jobs[4].id, jobs[2].id, jobs[0].id]
    assert (past.total, past.items) == (1, [])


async def test_counts_give_every_status(uow_factory: UowFactory) -> None:
    async with uow_factory(read_only=True) as uow:
        assert await uow.jobs.counts() == dict.fromkeys(JobStatus, 0)
    jobs = [_job(created=n) for n in range(4)]
    jobs[0].start(_at(1), LEASE)
    jobs[1].start(_at(1), LEASE)
    jobs[1].succeed(_at(2))
    await _add(uow_factory, *jobs)
    async with uow_factory(read_only=True) as uow:
        counts = await uow.jobs.counts()
    assert counts == {
        JobStatus.PENDING: 2,
        JobStatus.RUNNING: 1,
        JobStatus.DONE: 1,
        JobStatus.DEAD: 0,
    }


# --------------------------------------------------------------------- races of real databases


async def test_concurrent_adds_of_one_job_keep_exactly_one(engine: AsyncEngine) -> None:
    units = partial(SqlAlchemyUnitOfWork, engine)
    job_id = job_id_for("inbox:whatsapp:message:wamid.race")

    async def add(n: int) -> bool:
        async with units() as uow:
            kept = await uow.jobs.add(_job(created=n, job_id=job_id))
            await asyncio.sleep(0.05)  # the others arrive while this one is not committed
            await uow.commit()
            return kept

    results = await asyncio.gather(*(add(n) for n in range(8)))

    assert sorted(results) == [False] * 7 + [True]
    stored = await _get(units, job_id)
    assert stored.created_at == _at(results.index(True))


async def test_concurrent_claimers_get_different_jobs(engine: AsyncEngine) -> None:
    units = partial(SqlAlchemyUnitOfWork, engine)
    jobs = [_job(created=n) for n in range(4)]
    await _add(units, *jobs)
    now = _at(10)

    async def claim() -> list[str]:
        async with units() as uow:
            claimed = list(await uow.jobs.claim_due(now, 2))
            for job in claimed:
                job.start(now, LEASE)
                await uow.jobs.update(job)
            await uow.commit()
        return [job.id for job in claimed]

    async with units() as first:
        held = list(await first.jobs.claim_due(now, 2))
        second = asyncio.create_task(claim())
        if engine.dialect.name == "sqlite":
            await asyncio.sleep(0.1)  # the second claimer waits for the write lock meanwhile
        else:
            # Rows the first claimer holds are skipped, not waited for: the second claim
            # ends while the first is still open.
            await asyncio.wait_for(asyncio.shield(second), timeout=5)
        for job in held:
            job.start(now, LEASE)
            await first.jobs.update(job)
        await first.commit()
    others = await second

    assert [j.id for j in held] == [jobs[0].id, jobs[1].id]
    assert others == [jobs[2].id, jobs[3].id]
    async with units(read_only=True) as uow:
        assert (await uow.jobs.counts())[JobStatus.RUNNING] == 4


async def _running_taken_over_and_finished(uow_factory: UowFactory) -> tuple[Job, Job, Job]:
    """Three jobs started in their first attempt: one still running it, one claimed again by
    another worker since, one finished."""
    held, taken_over, finished = _job(created=1), _job(created=2), _job(created=3)
    for job in (held, taken_over, finished):
        job.start(_at(10), LEASE)
    taken_over.attempts += 1
    finished.succeed(_at(11))
    await _add(uow_factory, held, taken_over, finished)
    return held, taken_over, finished


async def test_a_renewal_extends_only_leases_still_held_by_the_same_attempt(
    uow_factory: UowFactory,
) -> None:
    held, taken_over, finished = await _running_taken_over_and_finished(uow_factory)

    async with uow_factory() as uow:
        renewed = await uow.jobs.renew({j.id: 1 for j in (held, taken_over, finished)}, _at(500))
        await uow.commit()

    assert renewed == {held.id}
    assert (await _get(uow_factory, held.id)).locked_until == _at(500)
    assert (await _get(uow_factory, taken_over.id)).locked_until == _at(10) + LEASE
    assert (await _get(uow_factory, finished.id)).locked_until is None


async def test_settling_records_an_attempt_only_while_the_job_still_runs_it(
    uow_factory: UowFactory,
) -> None:
    held, taken_over, finished = await _running_taken_over_and_finished(uow_factory)

    settled = {}
    async with uow_factory() as uow:
        for job in (held, taken_over, finished):
            ended = _job(job_id=job.id)
            ended.start(_at(10), LEASE)
            ended.fail("Boom: try later", _at(20), 30.0)
            settled[job.id] = await uow.jobs.settle(ended, 1)
        await uow.commit()

    assert settled == {held.id: True, taken_over.id: False, finished.id: False}
    retried = await _get(uow_factory, held.id)
    assert (retried.status, retried.run_at, retried.last_error) == (
        JobStatus.PENDING,
        _at(50),
        "Boom: try later",
    )
    assert (retried.attempts, retried.locked_until) == (1, None)
    assert (await _get(uow_factory, taken_over.id)).status is JobStatus.RUNNING
    assert (await _get(uow_factory, finished.id)).status is JobStatus.DONE


async def test_dead_jobs_are_found_by_kind_and_since_oldest_first(
    uow_factory: UowFactory,
) -> None:
    jobs = [_job("a", created=1), _job("a", created=2), _job("b", created=3), _job("a", created=4)]
    for n, job in enumerate(jobs[:3]):
        job.start(_at(10), LEASE)
        job.fail("gone", _at(100 + n), None)
    await _add(uow_factory, *jobs)

    async with uow_factory() as uow:
        every = await uow.jobs.dead(kind=None, since=None, limit=10)
        recent_a = await uow.jobs.dead(kind="a", since=_at(101), limit=10)
        first = await uow.jobs.dead(kind=None, since=None, limit=1)

    assert [j.id for j in every] == [j.id for j in jobs[:3]]
    assert [j.id for j in recent_a] == [jobs[1].id]
    assert [j.id for j in first] == [jobs[0].id]


async def test_only_done_jobs_finished_before_the_time_are_forgotten(
    uow_factory: UowFactory,
) -> None:
    old_done = [_job("a", created=1), _job("a", created=2)]
    recent_done, dead, pending = _job("a", created=3), _job("b", created=4), _job("c", created=5)
    for n, job in enumerate(old_done):
        job.start(_at(10), LEASE)
        job.succeed(_at(100 + n))
    recent_done.start(_at(10), LEASE)
    recent_done.succeed(_at(500))
    dead.start(_at(10), LEASE)
    dead.fail("gone", _at(100), None)
    await _add(uow_factory, *old_done, recent_done, dead, pending)

    async with uow_factory() as uow:
        first = await uow.jobs.forget_done(_at(200), limit=1)
        rest = await uow.jobs.forget_done(_at(200), limit=10)
        none_left = await uow.jobs.forget_done(_at(200), limit=10)
        await uow.commit()

    assert (first, rest, none_left) == (1, 1, 0)
    async with uow_factory(read_only=True) as uow:
        kept = await uow.jobs.find(PageRequest(), status=None)
    assert {job.id for job in kept.items} == {recent_done.id, dead.id, pending.id}
