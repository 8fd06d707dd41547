"""The lead criteria held on assistant definitions, read through the assistants' storage.

An assistant's ``leads`` block was checked when its definition was saved; it is parsed again
here, each time, so a lead is always scored by the live version's criteria. The extraction
rules read customers' messages for an offline assistant only: a language model extracts
facts itself, through ``update_lead``.
"""

from __future__ import annotations

from talia_core.assistants.definition import Assistant, Channel, Provider
from talia_core.assistants.ports import AssistantsUnitOfWork
from talia_core.leads.criteria import parse_criteria
from talia_core.leads.ports import LeadPolicy
from talia_core.shared.ports import UnitOfWorkFactory


class DefinitionLeadCriteria:
    def __init__(self, uow: UnitOfWorkFactory[AssistantsUnitOfWork]) -> None:
        self._uow = uow

    async def of_assistant(self, name: str) -> LeadPolicy | None:
        async with self._uow(read_only=True) as uow:
            return _policy(await uow.assistants.by_name(name))

    async def of_channel(self, channel: str) -> LeadPolicy | None:
        try:
            answering = Channel(channel)
        except ValueError:
            return None
        async with self._uow(read_only=True) as uow:
            return _policy(await uow.assistants.entry_for(answering))


def _policy(assistant: Assistant | None) -> LeadPolicy | None:
    if assistant is None:
        return None
    definition = assistant.definition
    if definition.leads is None:
        return None
    return LeadPolicy(
        criteria=parse_criteria(definition.leads),
        reads_messages=definition.provider is Provider.OFFLINE,
    )
