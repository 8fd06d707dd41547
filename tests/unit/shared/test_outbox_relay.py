"""The outbox relay over the in-memory database: events reach their consumers at least once,
each (event, consumer) gets one job however often an event is relayed, and consumers get
the job runner's retries and dead letters."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from functools import partial

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.memory.database import InMemoryDatabase, State
from adapters.memory.jobs import InMemoryJobStore
from adapters.memory.kernel import InMemoryOutbox
from adapters.memory.notifications import FakeEventNotifier
from adapters.memory.unit_of_work import InMemoryUnitOfWork
from talia_core.notifications.consumers import WEBHOOK_CONSUMER, webhook_consumer
from talia_core.shared.clock import FakeClock
from talia_core.shared.errors import ExternalServiceUnavailable, TaliaError
from talia_core.shared.events import DomainEvent
from talia_core.shared.jobs import JobRunner, JobStatus
from talia_core.shared.outbox_relay import (
    RELAY_JOB,
    RELAY_STRIPES,
    Consumer,
    OutboxRelay,
    Relayed,
    delivery_id,
    event_from_payload,
    event_payload,
)
from talia_core.shared.pagination import PageRequest

START = FakeClock().current


class Recorder:
    """A consumer's handler that records every event it is handed, repeats included."""

    def __init__(self) -> None:
        self.events: list[DomainEvent] = []

    async def __call__(self, event: DomainEvent) -> None:
        self.events.append(event)


class World:
    def __init__(self, *consumers: Consumer, batch: int = 100) -> None:
        self.database = InMemoryDatabase()
        self.clock = FakeClock(START)
        self.units = partial(InMemoryUnitOfWork, self.database)
        self.rings = 0
        self.consumers = consumers
        self.relay = OutboxRelay(self.units, self.clock, consumers, batch=batch, wake=self._ring)
        self.runner = JobRunner(
            self.units, self.clock, self.relay.job_handlers(), lambda attempts, error: 10.0
        )

    def _ring(self) -> None:
        self.rings += 1

    async def record(self, *events: DomainEvent) -> None:
        """Events written as a use case writes them: in its own transaction."""
        async with self.units() as uow:
            for event in events:
                await uow.outbox.add(event)
            await uow.commit()

    async def run_jobs(self) -> None:
        while await self.runner.run_due(50):
            pass

    async def jobs_of(self, kind: str) -> list[str]:
        async with self.units(read_only=True) as uow:
            page = await uow.jobs.find(PageRequest(limit=200), status=None)
        return sorted(job.id for job in page.items if job.kind == kind)

    async def unrelayed(self) -> Sequence[DomainEvent]:
        async with self.units(read_only=True) as uow:
            return await uow.outbox.unrelayed(1000)

    def lose_marks(self) -> None:
        """As if the relay's marks never made it: every event is relayed again."""
        self.database.committed.table("outbox_relayed").clear()


def an_event(n: int = 1, name: str = "claim.filed", *, seconds: float = 0) -> DomainEvent:
    return DomainEvent(name, START + timedelta(seconds=seconds), {"claim_id": f"c-{n}", "n": n})


async def test_an_event_reaches_each_consumer_subscribed_to_it_once() -> None:
    claims, orders = Recorder(), Recorder()
    world = World(
        Consumer("claims.desk", frozenset({"claim.filed"}), claims),
        Consumer("orders.fulfilment", frozenset({"order.paid"}), orders),
    )
    event = an_event()

    await world.record(event)
    await world.run_jobs()

    assert claims.events == [event]
    assert orders.events == []
    assert await world.unrelayed() == []
    assert await world.jobs_of("claims.desk") == [delivery_id("claims.desk", event.id)]


async def test_recording_an_event_leaves_its_relay_job_and_a_rollback_leaves_neither() -> None:
    world = World()
    kept, dropped = an_event(1), an_event(2)

    await world.record(kept)
    async with world.units() as uow:
        await uow.outbox.add(dropped)

    assert [e.id for e in await world.unrelayed()] == [kept.id]
    assert len(await world.jobs_of(RELAY_JOB)) == 1


async def test_events_recorded_while_a_relay_waits_share_it_and_all_reach_their_consumer() -> None:
    recorder = Recorder()
    world = World(Consumer("claims.desk", frozenset({"claim.filed"}), recorder))
    burst = [an_event(n) for n in range(20)]

    for event in burst:
        await world.record(event)
    assert 1 <= len(await world.jobs_of(RELAY_JOB)) <= RELAY_STRIPES

    await world.run_jobs()
    relays = len(await world.jobs_of(RELAY_JOB))
    later = an_event(99)
    await world.record(later)
    await world.run_jobs()

    assert len(await world.jobs_of(RELAY_JOB)) == relays + 1
    assert sorted(e.id for e in recorder.events) == sorted(e.id for e in [*burst, later])


async def test_an_event_relayed_again_gets_no_second_job_nor_delivery() -> None:
    recorder = Recorder()
    world = World(Consumer("claims.desk", frozenset({"claim.filed"}), recorder))
    event = an_event()
    await world.record(event)
    await world.run_jobs()

    world.lose_marks()
    again = await world.relay.relay()
    await world.run_jobs()

    assert again == Relayed(events=1, deliveries=0)
    assert recorder.events == [event]
    assert await world.unrelayed() == []


class Crash(Exception):
    pass


class OutboxThatCrashesWhenMarking(InMemoryOutbox):
    async def mark_relayed(self, event_ids: object, at: datetime) -> None:
        raise Crash("the process died before marking")


class CrashingUnit(InMemoryUnitOfWork):
    def bind(self, state: Callable[[], State]) -> None:
        super().bind(state)
        self.outbox = OutboxThatCrashesWhenMarking(state, InMemoryJobStore(state))


async def test_a_relay_that_dies_before_marking_leaves_the_event_to_the_next_relay() -> None:
    recorder = Recorder()
    consumer = Consumer("claims.desk", frozenset({"claim.filed"}), recorder)
    world = World(consumer)
    event = an_event()
    await world.record(event)
    dying = OutboxRelay(partial(CrashingUnit, world.database), world.clock, [consumer])

    with pytest.raises(Crash):
        await dying.relay()

    assert await world.jobs_of("claims.desk") == []
    assert await world.relay.relay() == Relayed(events=1, deliveries=1)
    await world.run_jobs()
    assert recorder.events == [event]


async def test_with_no_consumer_the_relay_marks_events_and_schedules_nothing() -> None:
    world = World()
    await world.record(an_event(1), an_event(2, "order.paid"))

    await world.run_jobs()

    assert await world.unrelayed() == []
    async with world.units(read_only=True) as uow:
        page = await uow.jobs.find(PageRequest(limit=200), status=None)
    assert {job.kind for job in page.items} == {RELAY_JOB}
    assert world.rings == 0


async def test_the_relay_takes_every_event_batch_by_batch_and_rings_once_a_batch() -> None:
    recorder = Recorder()
    world = World(Consumer("claims.desk", frozenset({"claim.filed"}), recorder), batch=2)
    events = [an_event(n, seconds=10 - n) for n in range(5)]
    await world.record(*events)

    relayed = await world.relay.relay()

    assert relayed == Relayed(events=5, deliveries=5)
    assert world.rings == 3
    await world.run_jobs()
    assert sorted(e.id for e in recorder.events) == sorted(e.id for e in events)


async def test_a_consumer_job_is_retried_after_the_receivers_retry_after() -> None:
    notifier = FakeEventNotifier()
    world = World(webhook_consumer(notifier, ["claim.filed"]))
    asked: list[TaliaError | None] = []

    def delay(attempts: int, error: TaliaError | None) -> float:
        asked.append(error)
        assert isinstance(error, ExternalServiceUnavailable)
        return float(error.retry_after_seconds or 1)

    world.runner = JobRunner(world.units, world.clock, world.relay.job_handlers(), delay)
    event = an_event()
    notifier.fail_next(retry_after=30)
    await world.record(event)

    await world.run_jobs()
    async with world.units(read_only=True) as uow:
        waiting = await uow.jobs.get(delivery_id(WEBHOOK_CONSUMER, event.id))
    assert (waiting.status, waiting.run_at) == (JobStatus.PENDING, START + timedelta(seconds=30))
    assert notifier.delivered == []

    world.clock.advance(timedelta(seconds=30))
    await world.run_jobs()
    assert notifier.delivered == [event]
    assert len(asked) == 1


async def test_a_notification_refused_for_good_leaves_its_job_dead_at_once() -> None:
    notifier = FakeEventNotifier()
    world = World(webhook_consumer(notifier, ["claim.filed"]))
    event = an_event()
    notifier.refuse_next()
    await world.record(event)

    await world.run_jobs()

    async with world.units(read_only=True) as uow:
        dead = await uow.jobs.get(delivery_id(WEBHOOK_CONSUMER, event.id))
    assert (dead.status, dead.attempts) == (JobStatus.DEAD, 1)
    assert dead.last_error is not None
    assert "NotificationRefused" in dead.last_error
    assert notifier.delivered == []


def test_consumers_with_one_name_or_the_relays_are_a_wiring_mistake() -> None:
    recorder = Recorder()
    twice = [Consumer("a.b", frozenset(), recorder), Consumer("a.b", frozenset(), recorder)]
    units = partial(InMemoryUnitOfWork, InMemoryDatabase())

    with pytest.raises(ValueError, match="distinct"):
        OutboxRelay(units, FakeClock(), twice)
    with pytest.raises(ValueError, match="distinct"):
        OutboxRelay(units, FakeClock(), [Consumer(RELAY_JOB, frozenset(), recorder)])


@given(
    name=st.from_regex(r"[a-z]{1,8}\.[a-z_]{1,12}", fullmatch=True),
    data=st.dictionaries(
        st.text(max_size=10),
        st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20)),
        max_size=5,
    ),
    seconds=st.integers(0, 10**9),
)
def test_an_event_survives_its_job_payload(
    name: str, data: dict[str, object], seconds: int
) -> None:
    event = DomainEvent(name, START + timedelta(seconds=seconds, microseconds=7), data)

    assert event_from_payload(event_payload(event)) == event


# Any interleaving of writers, two relays at once and lost marks: one job per pair.

steps = st.lists(
    st.one_of(
        st.tuples(st.just("record"), st.integers(1, 4)),
        st.tuples(st.just("relay"), st.integers(1, 3)),
        st.tuples(st.just("two relays"), st.integers(1, 3)),
        st.just(("lose marks", 0)),
    ),
    max_size=12,
)


@settings(max_examples=60, deadline=None)
@given(steps=steps)
async def test_any_interleaving_of_relays_schedules_each_event_and_consumer_once(
    steps: list[tuple[str, int]],
) -> None:
    claims, everything = Recorder(), Recorder()
    names = ["claim.filed", "order.paid", "contact_message.received"]
    world = World(
        Consumer("claims.desk", frozenset({"claim.filed"}), claims),
        Consumer("audit.all", frozenset(names), everything),
    )
    recorded: list[DomainEvent] = []
    for step, n in steps:
        if step == "record":
            batch = [an_event(len(recorded) + i, names[i % 3]) for i in range(n)]
            recorded += batch
            await world.record(*batch)
        elif step == "relay":
            await OutboxRelay(world.units, world.clock, world.consumers, batch=n).relay()
        elif step == "two relays":
            relays = [
                OutboxRelay(world.units, world.clock, world.consumers, batch=size)
                for size in (n, n + 1)
            ]
            await asyncio.gather(*(relay.relay() for relay in relays))
        else:
            world.lose_marks()
    await world.run_jobs()

    claims_filed = [e for e in recorded if e.name == "claim.filed"]
    assert await world.jobs_of("claims.desk") == sorted(
        delivery_id("claims.desk", e.id) for e in claims_filed
    )
    assert await world.jobs_of("audit.all") == sorted(
        delivery_id("audit.all", e.id) for e in recorded
    )
    assert sorted(e.id for e in claims.events) == sorted(e.id for e in claims_filed)
    assert sorted(e.id for e in everything.events) == sorted(e.id for e in recorded)
    assert await world.unrelayed() == []
