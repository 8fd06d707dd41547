"""In-memory sequences and outbox."""

from __future__ import annotations

from collections.abc import Callable

from adapters.memory.database import InMemoryRepositoryBundle, State
from talia_core.shared.events import DomainEvent


class InMemorySequences:
    def __init__(self, state: Callable[[], State]) -> None:
        self._state = state

    async def next_value(self, name: str) -> int:
        sequences = self._state().sequences
        sequences[name] = sequences.get(name, 0) + 1
        return sequences[name]


class InMemoryOutbox:
    def __init__(self, state: Callable[[], State]) -> None:
        self._state = state

    async def add(self, event: DomainEvent) -> None:
        self._state().outbox.append(event)


class InMemoryKernelRepositories(InMemoryRepositoryBundle):
    sequences: InMemorySequences
    outbox: InMemoryOutbox

    def bind(self, state: Callable[[], State]) -> None:
        self.sequences = InMemorySequences(state)
        self.outbox = InMemoryOutbox(state)
        super().bind(state)
