"""In-memory repositories of assistant definitions, with the SQL tables' keys: a name is
unique, a version is never overwritten (but for its report), a channel has one enabled
assistant, and an assistant has at most one eval set."""

from __future__ import annotations

import copy
from collections.abc import Callable

import attrs

from adapters.memory.database import InMemoryRepositoryBundle, InMemoryTable, State, paginate
from talia_core.assistants.definition import Assistant, AssistantVersion, Channel
from talia_core.assistants.eval_sets import EvalSet
from talia_core.shared.errors import Conflict
from talia_core.shared.pagination import Page, PageRequest


class InMemoryAssistantRepository(InMemoryTable[Assistant]):
    def __init__(self, state: Callable[[], State]) -> None:
        super().__init__(state, "assistants", "assistant")

    @property
    def _versions(self) -> dict[str, AssistantVersion]:
        return self._state().table("assistant_versions")

    async def add(self, assistant: Assistant) -> None:
        if await self.by_name(assistant.name) is not None:
            raise Conflict(f"an assistant named {assistant.name!r} exists")
        self._check_entries(assistant)
        await self.add_version(assistant.current)
        await super().add(assistant)

    async def by_name(self, name: str) -> Assistant | None:
        found = self.matching(lambda a: a.name == name)
        return found[0] if found else None

    async def entry_for(self, channel: Channel) -> Assistant | None:
        found = self.matching(lambda a: channel in a.definition.entry_channels)
        return found[0] if found else None

    async def add_version(self, version: AssistantVersion) -> None:
        key = f"{version.assistant_id}/{version.version}"
        if key in self._versions:
            raise Conflict(f"version {version.version} of assistant {version.assistant_id} exists")
        self._versions[key] = copy.deepcopy(version)

    async def update(self, assistant: Assistant) -> None:
        self._check_entries(assistant)
        live = assistant.current
        key = f"{assistant.id}/{live.version}"
        self._versions[key] = attrs.evolve(self._versions[key], report=copy.deepcopy(live.report))
        await super().update(assistant)

    async def find(self, page: PageRequest) -> Page[Assistant]:
        return paginate(self.matching(lambda _: True), page, key=lambda a: (a.created_at, a.id))

    async def versions(self, assistant_id: str, page: PageRequest) -> Page[AssistantVersion]:
        found = [v for v in self._versions.values() if v.assistant_id == assistant_id]
        return paginate(found, page, key=lambda v: v.version)

    def _check_entries(self, assistant: Assistant) -> None:
        for channel in assistant.definition.entry_channels:
            if any(
                other.id != assistant.id and channel in other.definition.entry_channels
                for other in self.rows.values()
            ):
                raise Conflict(f"{channel.value} has an entry assistant already")


class InMemoryEvalSetRepository:
    def __init__(self, state: Callable[[], State]) -> None:
        self._state = state

    @property
    def _sets(self) -> dict[str, EvalSet]:
        return self._state().table("assistant_eval_sets")

    async def get(self, assistant_id: str) -> EvalSet | None:
        return copy.deepcopy(self._sets.get(assistant_id))

    async def put(self, eval_set: EvalSet) -> None:
        self._sets[eval_set.assistant_id] = copy.deepcopy(eval_set)


class InMemoryAssistantsRepositories(InMemoryRepositoryBundle):
    assistants: InMemoryAssistantRepository
    eval_sets: InMemoryEvalSetRepository

    def bind(self, state: Callable[[], State]) -> None:
        self.assistants = InMemoryAssistantRepository(state)
        self.eval_sets = InMemoryEvalSetRepository(state)
        super().bind(state)
