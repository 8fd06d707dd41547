"""The admins' use cases: create assistant definitions, read them, revise them, and keep
each assistant's eval set, which gates its revisions when it is required (``gate``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from talia_core.assistants.capabilities import Capabilities
from talia_core.assistants.definition import Assistant, AssistantVersion, Definition
from talia_core.assistants.eval_parser import case_data, cases_from_data
from talia_core.assistants.eval_sets import EvalSet
from talia_core.assistants.evaluation import Evaluation
from talia_core.assistants.gate import EvalGate, Judgement, gated
from talia_core.assistants.ports import AssistantsUnitOfWork
from talia_core.shared.clock import Clock
from talia_core.shared.errors import Conflict, NotFound, RuleViolated
from talia_core.shared.pagination import Page, PageRequest
from talia_core.shared.ports import UnitOfWorkFactory


class AssistantAdmin:
    """Callers are admins (the HTTP guard, the seed); ``by`` is the user making the change."""

    def __init__(
        self,
        uow: UnitOfWorkFactory[AssistantsUnitOfWork],
        clock: Clock,
        capabilities: Capabilities,
        evaluation: Evaluation,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._capabilities = capabilities
        self._gate = EvalGate(evaluation, clock)

    async def create(
        self, name: str, definition: Definition, *, by: str, require_eval: bool = False
    ) -> Assistant:
        assistant = Assistant.create(
            name=name, definition=definition, by=by, at=self._clock.now(), require_eval=require_eval
        )
        self._capabilities.check(definition)
        async with self._uow() as uow:
            if await uow.assistants.by_name(assistant.name) is not None:
                raise Conflict(f"an assistant named {assistant.name!r} exists already")
            await _check_references(uow, assistant.id, definition)
            await uow.assistants.add(assistant)
            await uow.commit()
        return assistant

    async def get(self, assistant_id: str) -> Assistant:
        async with self._uow(read_only=True) as uow:
            return await uow.assistants.get(assistant_id)

    async def list(self, page: PageRequest) -> Page[Assistant]:
        async with self._uow(read_only=True) as uow:
            return await uow.assistants.find(page)

    async def revise(
        self,
        assistant_id: str,
        changes: Mapping[str, Any],
        *,
        by: str,
        require_eval: bool | None = None,
    ) -> Assistant:
        """A new version with ``changes`` (field of ``Definition`` → value), the other
        fields as they were; no version when nothing changes. ``require_eval`` (None:
        kept) is set first, so it already gates this revision. A version the gate turns
        down is kept, rejected, and ``RevisionRejected`` says why; the live one stays."""
        async with self._uow(read_only=True) as uow:
            assistant = await uow.assistants.get(assistant_id)
            definition = assistant.definition.revised(changes)
            candidate = assistant.draft(definition, by=by, at=self._clock.now())
            if candidate is not None:
                self._capabilities.check(definition)
                await _check_references(uow, assistant.id, definition)
            eval_set = await uow.eval_sets.get(assistant_id)
        required = assistant.require_eval if require_eval is None else require_eval
        if candidate is None and required == assistant.require_eval:
            return assistant
        judgement = None
        if candidate is not None:
            assistant.require_eval = required
            if eval_set is not None and gated(assistant, candidate):
                judgement = await self._gate.judge(assistant, candidate, eval_set)
                candidate = judgement.candidate
        stored = await self._store(assistant_id, required, candidate, judgement)
        refused = None if judgement is None else judgement.refused()
        if refused is not None:
            raise refused
        return stored

    async def versions(self, assistant_id: str, page: PageRequest) -> Page[AssistantVersion]:
        """Newest first, rejected ones included; ``NotFound`` for an unknown assistant."""
        async with self._uow(read_only=True) as uow:
            await uow.assistants.get(assistant_id)
            return await uow.assistants.versions(assistant_id, page)

    async def eval_set(self, assistant_id: str) -> EvalSet:
        """``NotFound`` for an unknown assistant, or one without an eval set."""
        async with self._uow(read_only=True) as uow:
            await uow.assistants.get(assistant_id)
            found = await uow.eval_sets.get(assistant_id)
        if found is None:
            raise NotFound("eval set of assistant", assistant_id)
        return found

    async def put_eval_set(self, assistant_id: str, cases: Sequence[object], *, by: str) -> EvalSet:
        """Make ``cases`` (each the data of a JSON Lines case) the assistant's eval set, in
        place of any earlier one; ``RuleViolated`` naming each bad case."""
        checked = tuple(case_data(case) for case in cases_from_data(cases))
        eval_set = EvalSet(assistant_id, checked, by, self._clock.now())
        async with self._uow() as uow:
            await uow.assistants.get(assistant_id)
            await uow.eval_sets.put(eval_set)
            await uow.commit()
        return eval_set

    async def _store(
        self,
        assistant_id: str,
        required: bool,
        candidate: AssistantVersion | None,
        judgement: Judgement | None,
    ) -> Assistant:
        """The flag and the new version, as judged; ``Conflict`` when another version was
        made while this one was evaluated."""
        async with self._uow() as uow:
            stored = await uow.assistants.get(assistant_id)
            stored.require_eval = required
            if judgement is not None and judgement.live_report is not None:
                # Stored while that version is live: the candidate may take its place.
                stored.current = attrs.evolve(stored.current, report=judgement.live_report)
                await uow.assistants.update(stored)
            if candidate is not None:
                stored.adopt(candidate)
                await uow.assistants.add_version(candidate)
            await uow.assistants.update(stored)
            await uow.commit()
        return stored


async def _check_references(
    uow: AssistantsUnitOfWork, assistant_id: str, definition: Definition
) -> None:
    """Hand-off targets exist; the channels it would enter by are nobody else's."""
    for target in definition.handoffs:
        if await uow.assistants.by_name(target) is None:
            raise RuleViolated(f"no assistant is named {target!r}", {"handoffs": "unknown"})
    for channel in definition.entry_channels:
        holder = await uow.assistants.entry_for(channel)
        if holder is not None and holder.id != assistant_id:
            raise Conflict(
                f"channels: {holder.name!r} answers {channel.value} already; each channel "
                "has one enabled assistant, its entry assistant"
            )
