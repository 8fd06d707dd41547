"""The admins' use cases: create assistant definitions, read them, revise them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from talia_core.assistants.capabilities import Capabilities
from talia_core.assistants.definition import Assistant, AssistantVersion, Definition
from talia_core.assistants.ports import AssistantsUnitOfWork
from talia_core.shared.clock import Clock
from talia_core.shared.errors import Conflict, RuleViolated
from talia_core.shared.pagination import Page, PageRequest
from talia_core.shared.ports import UnitOfWorkFactory


class AssistantAdmin:
    """Callers are admins (the HTTP guard, the seed); ``by`` is the user making the change."""

    def __init__(
        self,
        uow: UnitOfWorkFactory[AssistantsUnitOfWork],
        clock: Clock,
        capabilities: Capabilities,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._capabilities = capabilities

    async def create(self, name: str, definition: Definition, *, by: str) -> Assistant:
        assistant = Assistant.create(name=name, definition=definition, by=by, at=self._clock.now())
        self._capabilities.check(definition)
        async with self._uow() as uow:
            if await uow.assistants.by_name(assistant.name) is not None:
                raise Conflict(f"an assistant named {assistant.name!r} exists already")
            await _check_references(uow, assistant)
            await uow.assistants.add(assistant)
            await uow.commit()
        return assistant

    async def get(self, assistant_id: str) -> Assistant:
        async with self._uow(read_only=True) as uow:
            return await uow.assistants.get(assistant_id)

    async def list(self, page: PageRequest) -> Page[Assistant]:
        async with self._uow(read_only=True) as uow:
            return await uow.assistants.find(page)

    async def revise(self, assistant_id: str, changes: Mapping[str, Any], *, by: str) -> Assistant:
        """A new version with ``changes`` (field of ``Definition`` → value), the other
        fields as they were; no version when nothing changes."""
        async with self._uow() as uow:
            assistant = await uow.assistants.get(assistant_id)
            definition = assistant.definition.revised(changes)
            if assistant.revise(definition, by=by, at=self._clock.now()):
                self._capabilities.check(definition)
                await _check_references(uow, assistant)
                await uow.assistants.update(assistant)
                await uow.commit()
        return assistant

    async def versions(self, assistant_id: str, page: PageRequest) -> Page[AssistantVersion]:
        """Newest first; ``NotFound`` for an unknown assistant."""
        async with self._uow(read_only=True) as uow:
            await uow.assistants.get(assistant_id)
            return await uow.assistants.versions(assistant_id, page)


async def _check_references(uow: AssistantsUnitOfWork, assistant: Assistant) -> None:
    """Hand-off targets exist; the channels it would enter by are nobody else's."""
    definition = assistant.definition
    for target in definition.handoffs:
        if await uow.assistants.by_name(target) is None:
            raise RuleViolated(f"no assistant is named {target!r}", {"handoffs": "unknown"})
    for channel in definition.entry_channels:
        holder = await uow.assistants.entry_for(channel)
        if holder is not None and holder.id != assistant.id:
            raise Conflict(
                f"channels: {holder.name!r} answers {channel.value} already; each channel "
                "has one enabled assistant, its entry assistant"
            )
