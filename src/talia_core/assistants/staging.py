"""Units of work in which one assistant is read at a version that is not live: the stage
an evaluation plays a candidate version on, through the same turns as the live one.

``Staged(uow, stand_in)`` opens ``uow``'s units; in them, reads of ``stand_in``'s assistant
(by id, by name, as a channel's entry, in lists) give ``stand_in`` instead of what is
stored, and everything else is the unit's own.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

from talia_core.assistants.definition import Assistant, AssistantVersion, Channel
from talia_core.assistants.ports import (
    AssistantRepository,
    AssistantsUnitOfWork,
    EvalSetRepository,
)
from talia_core.shared.pagination import Page, PageRequest
from talia_core.shared.ports import Outbox, Sequences, UnitOfWorkFactory


class Staged:
    """A unit-of-work factory: ``uow``'s, with ``stand_in`` read in its assistant's place."""

    def __init__(self, uow: UnitOfWorkFactory[AssistantsUnitOfWork], stand_in: Assistant) -> None:
        self._uow = uow
        self._stand_in = stand_in

    def __call__(self, *, read_only: bool = False) -> _StagedUnit:
        return _StagedUnit(self._uow(read_only=read_only), self._stand_in)


class _StagedUnit:
    def __init__(self, unit: AssistantsUnitOfWork, stand_in: Assistant) -> None:
        self._unit = unit
        self._stand_in = stand_in

    @property
    def assistants(self) -> AssistantRepository:
        return _StagedAssistants(self._unit.assistants, self._stand_in)

    @property
    def eval_sets(self) -> EvalSetRepository:
        return self._unit.eval_sets

    @property
    def sequences(self) -> Sequences:
        return self._unit.sequences

    @property
    def outbox(self) -> Outbox:
        return self._unit.outbox

    async def __aenter__(self) -> Self:
        await self._unit.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._unit.__aexit__(exc_type, exc, tb)

    async def commit(self) -> None:
        await self._unit.commit()


class _StagedAssistants:
    def __init__(self, stored: AssistantRepository, stand_in: Assistant) -> None:
        self._stored = stored
        self._stand_in = stand_in

    async def add(self, assistant: Assistant) -> None:
        await self._stored.add(assistant)

    async def get(self, assistant_id: str) -> Assistant:
        return self._staged(await self._stored.get(assistant_id))

    async def by_name(self, name: str) -> Assistant | None:
        found = await self._stored.by_name(name)
        return None if found is None else self._staged(found)

    async def entry_for(self, channel: Channel) -> Assistant | None:
        """The stand-in when it enters by ``channel``, or else the stored entry but the
        stand-in's assistant (which, at the stand-in's version, does not)."""
        if channel in self._stand_in.definition.entry_channels:
            return self._stand_in
        found = await self._stored.entry_for(channel)
        return None if found is None or found.id == self._stand_in.id else found

    async def add_version(self, version: AssistantVersion) -> None:
        await self._stored.add_version(version)

    async def update(self, assistant: Assistant) -> None:
        await self._stored.update(assistant)

    async def find(self, page: PageRequest) -> Page[Assistant]:
        found = await self._stored.find(page)
        return Page([self._staged(a) for a in found.items], found.total, found.limit, found.offset)

    async def versions(self, assistant_id: str, page: PageRequest) -> Page[AssistantVersion]:
        return await self._stored.versions(assistant_id, page)

    def _staged(self, assistant: Assistant) -> Assistant:
        return self._stand_in if assistant.id == self._stand_in.id else assistant
