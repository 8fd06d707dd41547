"""The in-memory unit of work: it satisfies every context's unit-of-work port."""

from __future__ import annotations

import copy
from types import TracebackType
from typing import Self

from adapters.memory.assistants import InMemoryAssistantsRepositories
from adapters.memory.catalog import InMemoryCatalogRepositories
from adapters.memory.commerce import InMemoryCommerceRepositories
from adapters.memory.conversations import InMemoryConversationsRepositories
from adapters.memory.database import InMemoryDatabase, State
from adapters.memory.feedback import InMemoryFeedbackRepositories
from adapters.memory.identity import InMemoryIdentityRepositories
from adapters.memory.invitation_media import InMemoryInvitationMediaRepositories
from adapters.memory.invitations import InMemoryInvitationsRepositories
from adapters.memory.jobs import InMemoryJobRepositories
from adapters.memory.kernel import InMemoryKernelRepositories
from adapters.memory.knowledge import InMemoryKnowledgeRepositories
from adapters.memory.leads import InMemoryLeadsRepositories
from adapters.memory.rsvp import InMemoryRsvpRepositories
from adapters.memory.scheduling import InMemorySchedulingRepositories
from adapters.memory.usage import InMemoryUsageRepositories


class InMemoryUnitOfWork(
    InMemoryKernelRepositories,
    InMemoryIdentityRepositories,
    InMemoryFeedbackRepositories,
    InMemoryCatalogRepositories,
    InMemoryCommerceRepositories,
    InMemoryConversationsRepositories,
    InMemoryJobRepositories,
    InMemoryAssistantsRepositories,
    InMemoryUsageRepositories,
    InMemoryKnowledgeRepositories,
    InMemorySchedulingRepositories,
    InMemoryLeadsRepositories,
    InMemoryInvitationsRepositories,
    InMemoryInvitationMediaRepositories,
    InMemoryRsvpRepositories,
):
    """Each base is one context's bundle of repositories: a new context adds its bundle here."""

    def __init__(self, database: InMemoryDatabase, *, read_only: bool = False) -> None:
        self._database = database
        self._read_only = read_only
        self._working: State | None = None
        self.bind(self._state)

    def _state(self) -> State:
        if self._working is None:
            raise RuntimeError("the unit of work is used outside its 'async with' block")
        return self._working

    async def __aenter__(self) -> Self:
        if self._read_only:
            # Committed state is replaced on commit, never changed in place: reading it is safe.
            self._working = self._database.committed
            return self
        await self._database.lock.acquire()
        self._working = copy.deepcopy(self._database.committed)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._working = None
        if not self._read_only:
            self._database.lock.release()

    async def commit(self) -> None:
        if self._read_only:
            raise RuntimeError("a read-only unit of work cannot commit")
        self._database.committed = copy.deepcopy(self._state())
