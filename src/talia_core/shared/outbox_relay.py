"""The outbox relay: every event stored in the outbox reaches each consumer that wants it, at
least once.

``Outbox.add`` stores an event and schedules a relay job (``relaying``), which the events
recorded while it waits share. The relay reads the events
not yet relayed, oldest first, and in one transaction schedules one job per (event,
consumer) and marks the events relayed. The job's id is derived from the consumer's name and
the event's id (``delivery_id``), so the jobs table's primary key keeps one job per pair
however often an event is relayed again (two relays at once, or marks lost): a database
constraint, not a read before the write. Consumers then get the job runner's retries with
backoff and its dead letters, and must be idempotent, keyed by the event's id.
"""

from __future__ import annotations

import zlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import attrs

from talia_core.shared.clock import Clock
from talia_core.shared.events import DomainEvent
from talia_core.shared.jobs import Job, JobHandler, JobsUnitOfWork, job_id_for
from talia_core.shared.ports import UnitOfWorkFactory

RELAY_JOB = "outbox.relay"
RELAY_BATCH = 100
"""The most events one transaction of the relay takes."""

EventHandler = Callable[[DomainEvent], Awaitable[None]]


@attrs.frozen
class Consumer:
    """A named handler of the events it subscribes to; its name is the kind of its jobs.

    ``handle`` may run more than once for one event: it must be idempotent.
    """

    name: str
    events: frozenset[str]
    handle: EventHandler


@attrs.frozen
class Relayed:
    """What one relay did: events marked relayed, and consumer jobs it scheduled (a job
    that already existed is not counted)."""

    events: int
    deliveries: int


RELAY_STRIPES = 8
"""How many relay jobs may wait at once: the events of a burst share them."""


def relaying(event: DomainEvent) -> Job:
    """The job scheduled with each event (``JobStore.schedule(..., sooner=True)``): it relays
    whatever the outbox holds when it runs. While one waits, the events recorded after it
    share it rather than each adding another (a burst of events costs a few relays, not one
    each), and it runs no later than the earliest of them.

    Sharing a waiting job updates its row, which stays locked until the event's transaction
    ends; the events spread over ``RELAY_STRIPES`` keys by id, so concurrent transactions
    seldom wait for one another there.
    """
    stripe = zlib.crc32(event.id.encode()) % RELAY_STRIPES
    return Job.new(
        RELAY_JOB,
        {"event_id": event.id},
        at=event.occurred_at,
        job_id=job_id_for(f"{RELAY_JOB}:{event.id}"),
        debounce_key=f"{RELAY_JOB}:{stripe}",
    )


def delivery_id(consumer: str, event_id: str) -> str:
    """The one job a consumer ever gets for an event."""
    return job_id_for(f"{consumer}:{event_id}")


def event_payload(event: DomainEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "name": event.name,
        "occurred_at": event.occurred_at.isoformat(),
        "data": event.data,
    }


def event_from_payload(payload: Mapping[str, Any]) -> DomainEvent:
    return DomainEvent(
        name=str(payload["name"]),
        occurred_at=datetime.fromisoformat(str(payload["occurred_at"])),
        data=dict(payload["data"]),
        id=str(payload["id"]),
    )


class OutboxRelay:
    """Schedules each outbox event's consumer jobs, then marks it relayed, in one transaction.

    Events nobody subscribes to are marked all the same: with no consumer configured the
    outbox is only a record.
    """

    def __init__(
        self,
        uow: UnitOfWorkFactory[JobsUnitOfWork],
        clock: Clock,
        consumers: Sequence[Consumer],
        *,
        batch: int = RELAY_BATCH,
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        names = [consumer.name for consumer in consumers]
        if len(set(names)) != len(names) or RELAY_JOB in names:
            raise ValueError(f"consumer names must be distinct and not {RELAY_JOB!r}: {names}")
        if batch < 1:
            raise ValueError("the relay's batch must be at least 1")
        self._uow = uow
        self._clock = clock
        self._consumers = tuple(consumers)
        self._batch = batch
        self._wake = wake

    def job_handlers(self) -> dict[str, JobHandler]:
        """The relay job, and one kind of job per consumer."""

        async def relay(payload: Mapping[str, Any]) -> None:
            await self.relay()

        handlers: dict[str, JobHandler] = {RELAY_JOB: relay}
        for consumer in self._consumers:
            handlers[consumer.name] = _handler(consumer)
        return handlers

    async def relay(self) -> Relayed:
        """Relay everything the outbox holds, ``batch`` events per transaction."""
        events = deliveries = 0
        while True:
            taken, scheduled = await self._relay_batch()
            events += taken
            deliveries += scheduled
            if scheduled:
                self._wake()
            if taken < self._batch:
                return Relayed(events, deliveries)

    async def _relay_batch(self) -> tuple[int, int]:
        scheduled = 0
        async with self._uow() as uow:
            events = await uow.outbox.unrelayed(self._batch)
            if not events:
                return 0, 0
            now = self._clock.now()
            for event in events:
                for consumer in self._consumers:
                    if event.name in consumer.events:
                        job = Job.new(
                            consumer.name,
                            {"event": event_payload(event)},
                            at=now,
                            job_id=delivery_id(consumer.name, event.id),
                        )
                        if await uow.jobs.add(job):  # False: relayed before, kept once
                            scheduled += 1
            await uow.outbox.mark_relayed([event.id for event in events], now)
            await uow.commit()
        return len(events), scheduled


def _handler(consumer: Consumer) -> JobHandler:
    async def deliver(payload: Mapping[str, Any]) -> None:
        await consumer.handle(event_from_payload(payload["event"]))

    return deliver
