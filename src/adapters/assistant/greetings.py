"""The greeting a call opens with, held on the definition of the assistant that answers
calls: its ``greeting`` variable (``"variables": {"greeting": "…"}``), read from the live
version at each call; the configured greeting when no assistant answers calls or its
definition has none."""

from __future__ import annotations

from talia_core.assistants.definition import Channel
from talia_core.assistants.ports import AssistantsUnitOfWork
from talia_core.shared.ports import UnitOfWorkFactory

GREETING = "greeting"


class DefinitionCallGreetings:
    def __init__(self, uow: UnitOfWorkFactory[AssistantsUnitOfWork], *, otherwise: str) -> None:
        self._uow = uow
        self._otherwise = otherwise

    async def greeting(self) -> str:
        async with self._uow(read_only=True) as uow:
            assistant = await uow.assistants.entry_for(Channel.VOICE)
        if assistant is None or not assistant.definition.enabled:
            return self._otherwise
        return assistant.definition.variables.get(GREETING, "").strip() or self._otherwise
