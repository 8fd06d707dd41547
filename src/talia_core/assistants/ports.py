"""What assistant definitions need from storage."""

from __future__ import annotations

from typing import Protocol

from talia_core.assistants.definition import Assistant, AssistantVersion, Channel
from talia_core.shared.pagination import Page, PageRequest
from talia_core.shared.ports import UnitOfWork


class AssistantRepository(Protocol):
    """Names are unique, and so is each channel's entry assistant (see ``definition``):
    ``add`` and ``update`` raise ``Conflict`` on a clash, whatever the caller checked."""

    async def add(self, assistant: Assistant) -> None:
        """Store a new assistant with its first version."""
        ...

    async def get(self, assistant_id: str) -> Assistant:
        """With its current version; ``NotFound`` when missing, locked in a writing unit."""
        ...

    async def by_name(self, name: str) -> Assistant | None: ...

    async def entry_for(self, channel: Channel) -> Assistant | None:
        """The enabled assistant that answers ``channel``, if one does."""
        ...

    async def update(self, assistant: Assistant) -> None:
        """Store the assistant's current version, the next one: the earlier ones stay."""
        ...

    async def find(self, page: PageRequest) -> Page[Assistant]:
        """Most recently created first."""
        ...

    async def versions(self, assistant_id: str, page: PageRequest) -> Page[AssistantVersion]:
        """The assistant's versions, newest first; an unknown id has none."""
        ...


class AssistantsUnitOfWork(UnitOfWork, Protocol):
    @property
    def assistants(self) -> AssistantRepository: ...
