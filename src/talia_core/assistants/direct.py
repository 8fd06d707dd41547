"""A direct chat: a frontend talks to an assistant and keeps the conversation itself.

A frontend (an app's chat panel, a voice socket) is no channel: it has no contact and no
conversation Talia stores. So a direct turn is stateless, like a model's API: every call
carries the history so far, ending with the user's messages, and the answer is returned,
not stored. It runs as on the web chat (a turn naming no assistant is answered by the web
chat's entry assistant) and as a rehearsal: tools that read run for real, for a contact
that does not exist; a tool that acts (a booking, a lead's facts) is not performed, and
the model reads so; hand-offs and transfers play as they would. The model calls go in the
usage ledger with no conversation, within each assistant's daily budget.

Customers talk only to an assistant that faces the web chat; staff to any enabled one.
"""

from __future__ import annotations

from collections.abc import Sequence

from talia_core.assistants.builtins import CONTROL_TOOLS
from talia_core.assistants.definition import Assistant, Channel
from talia_core.assistants.evaluation import TurnsOn
from talia_core.assistants.language import Role, Said
from talia_core.assistants.ledger import DetachedLedger
from talia_core.assistants.ports import EvaluationUnitOfWork
from talia_core.assistants.tools import ToolCatalogue
from talia_core.assistants.turn import AgentTurns, Drafting, TurnRequest, TurnResult
from talia_core.shared.clock import Clock
from talia_core.shared.errors import NotFound, RuleViolated
from talia_core.shared.ids import new_id
from talia_core.shared.ports import UnitOfWorkFactory

CHANNEL = Channel.WEBCHAT
ENTRY = "web chat entry"
"""How the assistant answering when none is named is called in a ``NotFound``."""


class DirectChat:
    def __init__(
        self,
        uow: UnitOfWorkFactory[EvaluationUnitOfWork],
        clock: Clock,
        *,
        turns: TurnsOn,
        tools: ToolCatalogue,
    ) -> None:
        self._uow = uow
        self._turns: AgentTurns = turns(
            uow, tools=tools.rehearsal(keep=CONTROL_TOOLS), ledger=DetachedLedger(uow, clock)
        )

    async def answer(
        self,
        history: Sequence[Said],
        *,
        assistant: str | None = None,
        staff: bool = False,
        name: str | None = None,
        drafting: Drafting | None = None,
    ) -> TurnResult:
        """The answer of ``assistant`` (the web chat's entry one when ``None``) to
        ``history``, oldest first, whose last message is the user's; ``name`` is the
        user's, for instructions that greet by name. ``NotFound`` for an assistant that
        does not exist or that the caller may not talk to; ``RuleViolated`` for a disabled
        one or a history that does not end with the user."""
        if not history or history[-1].role is not Role.USER:
            raise RuleViolated(
                "the last message must be the user's", {"messages": "must end with the user"}
            )
        chosen = await self._chosen(assistant, staff=staff)
        result = await self._turns.take(
            TurnRequest(
                conversation_id=new_id(),
                contact_id=new_id(),
                channel=CHANNEL.value,
                contact_name=name,
                history=tuple(history),
                assistant=chosen.name,
            ),
            drafting=drafting,
        )
        if result.speaker is None:  # switched off since it was chosen
            raise NotFound("assistant", chosen.name)
        return result

    async def _chosen(self, name: str | None, *, staff: bool) -> Assistant:
        async with self._uow(read_only=True) as uow:
            if name is None:
                entry = await uow.assistants.entry_for(CHANNEL)
                if entry is None:
                    raise NotFound("assistant", ENTRY)
                return entry
            found = await uow.assistants.by_name(name)
        # A customer learns nothing of the assistants that do not face them.
        if found is None or not (staff or CHANNEL in found.definition.entry_channels):
            raise NotFound("assistant", name)
        if not found.definition.enabled:
            raise RuleViolated(
                f"assistant {name!r} is disabled: enable it to talk to it",
                {"assistant": "disabled"},
            )
        return found
