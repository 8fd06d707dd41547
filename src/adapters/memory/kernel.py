"""In-memory sequences and outbox."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import datetime

from adapters.memory.database import InMemoryRepositoryBundle, State
from adapters.memory.jobs import InMemoryJobStore
from talia_core.shared.events import DomainEvent
from talia_core.shared.outbox_relay import relaying


class InMemorySequences:
    def __init__(self, state: Callable[[], State]) -> None:
        self._state = state

    async def next_value(self, name: str) -> int:
        sequences = self._state().sequences
        sequences[name] = sequences.get(name, 0) + 1
        return sequences[name]


class InMemoryOutbox:
    """Events in ``State.outbox`` in the order they were added; when each was relayed in the
    ``outbox_relayed`` table (event id -> time). Units run one at a time: no lock needed."""

    def __init__(self, state: Callable[[], State], jobs: InMemoryJobStore) -> None:
        self._state = state
        self._jobs = jobs

    async def add(self, event: DomainEvent) -> None:
        self._state().outbox.append(event)
        await self._jobs.schedule(relaying(event), sooner=True)

    async def unrelayed(self, limit: int) -> Sequence[DomainEvent]:
        relayed = self._relayed
        waiting = [event for event in self._state().outbox if event.id not in relayed]
        return sorted(waiting, key=lambda event: (event.occurred_at, event.id))[:limit]

    async def mark_relayed(self, event_ids: Collection[str], at: datetime) -> None:
        known = {event.id for event in self._state().outbox}
        self._relayed.update({event_id: at for event_id in event_ids if event_id in known})

    @property
    def _relayed(self) -> dict[str, datetime]:
        return self._state().table("outbox_relayed")


class InMemoryKernelRepositories(InMemoryRepositoryBundle):
    sequences: InMemorySequences
    outbox: InMemoryOutbox

    def bind(self, state: Callable[[], State]) -> None:
        self.sequences = InMemorySequences(state)
        self.outbox = InMemoryOutbox(state, InMemoryJobStore(state))
        super().bind(state)
