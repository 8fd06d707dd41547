"""Ports of the shared kernel: the unit of work and what every unit of work carries."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self, TypeVar

from talia_core.shared.events import DomainEvent


class Sequences(Protocol):
    """Gap-free counters (claim numbers, order numbers), safe under concurrent writers."""

    async def next_value(self, name: str) -> int:
        """Take the next value of the named counter inside the current transaction."""
        ...


class Outbox(Protocol):
    """Domain events stored in the same transaction as the change that raised them, each
    with a job that relays it to its consumers (``talia_core.shared.outbox_relay``)."""

    async def add(self, event: DomainEvent) -> None:
        """Store the event and schedule its relay job (``outbox_relay.relaying``)."""
        ...

    async def unrelayed(self, limit: int) -> Sequence[DomainEvent]:
        """Up to ``limit`` events not yet relayed, oldest first, locked in a writing unit so
        that concurrent relays never get the same event (rows another relay holds are
        skipped)."""
        ...

    async def mark_relayed(self, event_ids: Collection[str], at: datetime) -> None: ...


class UnitOfWork(Protocol):
    """One transaction: leaving the block without ``commit`` rolls everything back.

    A ``read_only`` unit (see ``UnitOfWorkFactory``) cannot commit; on SQLite it reads in
    autocommit, so each statement sees the latest commit and several statements may see
    different ones.
    """

    @property
    def sequences(self) -> Sequences: ...

    @property
    def outbox(self) -> Outbox: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None: ...


U_co = TypeVar("U_co", bound=UnitOfWork, covariant=True)


class UnitOfWorkFactory(Protocol[U_co]):
    """Opens a unit of work; a ``read_only`` one may run beside others and cannot commit."""

    def __call__(self, *, read_only: bool = False) -> U_co: ...
