"""One contract for the outbox: the in-memory fake and SQL on every database.

The races run on the real databases: relays at once take different events (rows another
relay holds are skipped), and the jobs table's primary key keeps one job per (event,
consumer) however often an event is relayed.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from functools import partial

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.kernel import outbox
from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWork
from talia_core.shared.clock import FakeClock
from talia_core.shared.events import DomainEvent
from talia_core.shared.jobs import JobStatus
from talia_core.shared.outbox_relay import (
    RELAY_JOB,
    Consumer,
    OutboxRelay,
    delivery_id,
    relaying,
)
from talia_core.shared.pagination import PageRequest
from tests.conftest import UowFactory

T0 = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)


def _event(n: int, *, seconds: float = 0, name: str = "claim.filed") -> DomainEvent:
    return DomainEvent(name, T0 + timedelta(seconds=seconds), {"claim_id": f"c-{n}", "number": n})


async def _record(units: UowFactory, *events: DomainEvent) -> None:
    async with units() as uow:
        for event in events:
            await uow.outbox.add(event)
        await uow.commit()


async def _unrelayed(units: UowFactory, limit: int = 1000) -> list[DomainEvent]:
    async with units(read_only=True) as uow:
        return list(await uow.outbox.unrelayed(limit))


async def _job_ids(units: UowFactory, kind: str) -> list[str]:
    async with units(read_only=True) as uow:
        page = await uow.jobs.find(PageRequest(limit=200), status=None)
    return sorted(job.id for job in page.items if job.kind == kind)


async def test_an_event_reads_back_whole_with_its_relay_job(uow_factory: UowFactory) -> None:
    event = DomainEvent(
        "order.paid",
        T0,
        {
            "order_id": "0190a000-0000-7000-8000-000000000002",
            "customer": "María José Ñúñez 💍",
            "total": {"amount": 15990, "currency": "PEN"},
            "items": [{"kind": "plan", "quantity": 1}],
            "coupon": None,
            "paid": True,
        },
    )

    await _record(uow_factory, event)

    assert await _unrelayed(uow_factory) == [event]
    async with uow_factory(read_only=True) as uow:
        job = await uow.jobs.get(relaying(event).id)
    assert (job.kind, job.status, job.run_at) == (RELAY_JOB, JobStatus.PENDING, T0)


async def test_an_event_rolled_back_leaves_no_event_and_no_job(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        await uow.outbox.add(_event(1))

    assert await _unrelayed(uow_factory) == []
    assert await _job_ids(uow_factory, RELAY_JOB) == []


async def test_unrelayed_events_come_oldest_first_up_to_the_limit(
    uow_factory: UowFactory,
) -> None:
    late, early, tied_a, tied_b = (
        _event(1, seconds=30),
        _event(2, seconds=-5),
        _event(3, seconds=10),
        _event(4, seconds=10),
    )
    await _record(uow_factory, late, early)
    await _record(uow_factory, tied_b, tied_a)
    tied = sorted([tied_a, tied_b], key=lambda e: e.id)

    assert await _unrelayed(uow_factory) == [early, *tied, late]
    assert await _unrelayed(uow_factory, limit=2) == [early, tied[0]]


async def test_marked_events_are_not_unrelayed_anymore(uow_factory: UowFactory) -> None:
    events = [_event(n, seconds=n) for n in range(4)]
    await _record(uow_factory, *events)

    async with uow_factory() as uow:
        await uow.outbox.mark_relayed([events[0].id, events[2].id], T0)
        await uow.outbox.mark_relayed([], T0)
        await uow.commit()
    async with uow_factory() as uow:
        await uow.outbox.mark_relayed([events[1].id], T0)  # rolled back

    assert await _unrelayed(uow_factory) == [events[1], events[3]]


# --------------------------------------------------------------------- races of real databases


async def _noop(event: DomainEvent) -> None:
    return None


CONSUMERS = [
    Consumer("claims.desk", frozenset({"claim.filed"}), _noop),
    Consumer("audit.all", frozenset({"claim.filed", "order.paid"}), _noop),
]


async def test_a_second_relay_skips_the_events_the_first_holds(engine: AsyncEngine) -> None:
    units = partial(SqlAlchemyUnitOfWork, engine)
    events = [_event(n, seconds=n) for n in range(4)]
    await _record(units, *events)

    async def take() -> list[str]:
        async with units() as uow:
            taken = list(await uow.outbox.unrelayed(2))
            await uow.outbox.mark_relayed([e.id for e in taken], T0)
            await uow.commit()
        return [e.id for e in taken]

    async with units() as first:
        held = list(await first.outbox.unrelayed(2))
        second = asyncio.create_task(take())
        if engine.dialect.name == "sqlite":
            await asyncio.sleep(0.1)  # the second relay waits for the write lock meanwhile
        else:
            # Rows the first relay holds are skipped, not waited for.
            await asyncio.wait_for(asyncio.shield(second), timeout=5)
        await first.outbox.mark_relayed([e.id for e in held], T0)
        await first.commit()
    others = await second

    assert [e.id for e in held] == [events[0].id, events[1].id]
    assert others == [events[2].id, events[3].id]
    assert await _unrelayed(units) == []


async def test_relays_at_once_schedule_each_event_and_consumer_once(engine: AsyncEngine) -> None:
    units = partial(SqlAlchemyUnitOfWork, engine)
    events = [_event(n, seconds=n, name=("claim.filed", "order.paid")[n % 2]) for n in range(30)]
    await _record(units, *events)
    relays = [OutboxRelay(units, FakeClock(), CONSUMERS, batch=size) for size in (3, 4, 7)]

    done = await asyncio.gather(*(relay.relay() for relay in relays))

    assert sum(r.events for r in done) == 30
    assert sum(r.deliveries for r in done) == 45
    claims = [e for e in events if e.name == "claim.filed"]
    assert await _job_ids(units, "claims.desk") == sorted(
        delivery_id("claims.desk", e.id) for e in claims
    )
    assert await _job_ids(units, "audit.all") == sorted(
        delivery_id("audit.all", e.id) for e in events
    )
    assert await _unrelayed(units) == []

    # The marks are lost (a restore, a relay of an earlier release): relayed again, at once.
    async with engine.begin() as connection:
        await connection.execute(outbox.update().values(relayed_at=None))
    again = await asyncio.gather(*(relay.relay() for relay in relays))

    assert (sum(r.events for r in again), sum(r.deliveries for r in again)) == (30, 0)
    async with engine.connect() as connection:
        jobs = sa.text("SELECT count(*) FROM jobs WHERE kind <> :relay")
        assert (await connection.execute(jobs, {"relay": RELAY_JOB})).scalar_one() == 45
