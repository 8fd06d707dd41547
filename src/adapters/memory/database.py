"""An in-memory database with real transactions: work on a copy, publish it on commit."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeVar

import attrs

from talia_core.shared.errors import Conflict, NotFound
from talia_core.shared.events import DomainEvent
from talia_core.shared.pagination import Page, PageRequest

E = TypeVar("E")


@attrs.define
class State:
    tables: dict[str, dict[str, Any]] = attrs.field(factory=dict)
    sequences: dict[str, int] = attrs.field(factory=dict)
    outbox: list[DomainEvent] = attrs.field(factory=list)

    def table(self, name: str) -> dict[str, Any]:
        return self.tables.setdefault(name, {})


class InMemoryDatabase:
    """Holds committed state; one unit of work at a time, like a serialised database."""

    def __init__(self) -> None:
        self.committed = State()
        self.lock = asyncio.Lock()


class InMemoryRepositoryBundle:
    """The base of every context's bundle of in-memory repositories.

    The twin of ``adapters.persistence.bundle.RepositoryBundle``: ``InMemoryUnitOfWork``
    inherits one bundle per context and binds them all, once, to its working state.
    """

    def bind(self, state: Callable[[], State]) -> None:
        """The end of the chain: every bundle has bound its repositories."""


class InMemoryTable(Generic[E]):
    """Entities of one kind keyed by id; callers get copies, never the stored object."""

    def __init__(self, state: Callable[[], State], name: str, kind: str) -> None:
        self._state = state
        self._name = name
        self._kind = kind

    @property
    def rows(self) -> dict[str, E]:
        return self._state().table(self._name)

    async def add(self, entity: E) -> None:
        key = getattr(entity, "id")  # noqa: B009 - every entity has an id
        if key in self.rows:
            raise Conflict(f"{self._kind} {key!r} already exists")
        self.rows[key] = copy.deepcopy(entity)

    async def get(self, key: str) -> E:
        try:
            return copy.deepcopy(self.rows[key])
        except KeyError:
            raise NotFound(self._kind, key) from None

    async def update(self, entity: E) -> None:
        key = getattr(entity, "id")  # noqa: B009
        if key not in self.rows:
            raise NotFound(self._kind, key)
        self.rows[key] = copy.deepcopy(entity)

    def matching(self, keep: Callable[[E], bool]) -> list[E]:
        return [copy.deepcopy(e) for e in self.rows.values() if keep(e)]


def paginate(items: Iterable[E], page: PageRequest, *, key: Callable[[E], Any]) -> Page[E]:
    """Sort by ``key`` descending (newest or highest first) and cut one page."""
    ordered = sorted(items, key=key, reverse=True)
    return Page(
        items=ordered[page.offset : page.offset + page.limit],
        total=len(ordered),
        limit=page.limit,
        offset=page.offset,
    )
