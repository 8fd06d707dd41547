"""Evaluations: scripted conversations run against a definition, a regression check.

A case is the customer's turns (each one or several messages, answered together), on a
channel, starting with an assistant; the turns are played in order through ``AgentTurns``
in a conversation of its own, each answer going into the history of the next, the
assistant a turn ends with answering the next (as a conversation keeps its current one).
A hand-off ends the case: a person answers from then on.

What a case expects, each optional (``Expectations``): the tools called over the case,
exactly, with a subset of the arguments of some call; whether it ends handed off to a
person; the assistant answering at the end (after transfers); phrases the last answer
must say or must not say (case and accents aside); the most model calls one turn makes.

An evaluation is a dry run: tools that only read run for real, for a contact that does not
exist; a tool that acts is not performed: the call is kept, for the expectations, and the
model reads that nothing was done (``ToolCatalogue.rehearsal``). Hand-offs and transfers,
which the turn carries out itself, play as they would. The model calls go in the usage
ledger under the evaluated version, with no conversation: that is how an evaluation's calls
are told from the conversations'. A ``candidate`` version, one not live, is played in the
live one's place (``staging``): the other assistants it transfers to answer as they are.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

import attrs

from talia_core.assistants.builtins import CONTROL_TOOLS
from talia_core.assistants.definition import Assistant, AssistantVersion, Channel
from talia_core.assistants.language import Role, Said, ToolCall
from talia_core.assistants.ledger import DetachedLedger, UsageLedger
from talia_core.assistants.ports import AssistantsUnitOfWork, EvaluationUnitOfWork
from talia_core.assistants.staging import Staged
from talia_core.assistants.tools import ToolCatalogue
from talia_core.assistants.turn import AgentTurns, TurnRequest, TurnResult
from talia_core.shared.clock import Clock
from talia_core.shared.errors import (
    ExternalServiceUnavailable,
    NotFound,
    RuleViolated,
    TaliaError,
)
from talia_core.shared.ids import new_id
from talia_core.shared.ports import UnitOfWorkFactory


@attrs.frozen
class ExpectedCall:
    """A tool the case calls; ``arguments``: values some call of it was given."""

    name: str
    arguments: Mapping[str, object] = attrs.field(factory=dict)


@attrs.frozen
class Expectations:
    """What a case checks; None (or nothing listed) leaves a check out. ``tools`` are the
    tools called, exactly (empty: none); ``max_steps`` holds for every turn."""

    tools: tuple[ExpectedCall, ...] | None = None
    hand_off: bool | None = None
    assistant: str | None = None
    contains: tuple[str, ...] = ()
    not_contains: tuple[str, ...] = ()
    max_steps: int | None = None

    def failures(self, played: Played) -> list[str]:
        """Why ``played`` falls short of these expectations; empty when it does not."""
        reasons = played.unfinished()
        if self.tools is not None:
            reasons += _tool_failures(self.tools, played.calls)
        if self.hand_off is True and not played.hand_off:
            reasons.append("expected a hand-off to a person, none happened")
        if self.hand_off is False and played.hand_off:
            reasons.append("handed off to a person, not expected")
        if self.assistant is not None and played.speaker != self.assistant:
            speaker = played.speaker or "no assistant"
            reasons.append(f"expected {self.assistant} to answer at the end, {speaker} did")
        answer = _folded(" ".join(played.answer))
        reasons += [
            f"the answer does not say {_quoted(p)}"
            for p in self.contains
            if _folded(p) not in answer
        ]
        reasons += [
            f"the answer says {_quoted(p)}" for p in self.not_contains if _folded(p) in answer
        ]
        if self.max_steps is not None and played.steps > self.max_steps:
            reasons.append(
                f"a turn took {played.steps} model steps, at most {self.max_steps} expected"
            )
        return reasons


@attrs.frozen
class EvalCase:
    """``turns``: the customer's messages, turn by turn; ``assistant`` starts the case
    instead of the one the evaluation runs."""

    name: str
    turns: tuple[tuple[str, ...], ...]
    expect: Expectations
    channel: Channel = Channel.WEBCHAT
    assistant: str | None = None
    contact_name: str | None = None


@attrs.frozen
class Played:
    """What the turns of a case gave, in order; ``scripted``: how many it has."""

    results: tuple[TurnResult, ...]
    scripted: int

    @property
    def calls(self) -> tuple[ToolCall, ...]:
        return tuple(event.call for result in self.results for event in result.events)

    @property
    def hand_off(self) -> bool:
        return self.results[-1].hand_off

    @property
    def speaker(self) -> str | None:
        speaker = self.results[-1].speaker
        return None if speaker is None else speaker.name

    @property
    def answer(self) -> tuple[str, ...]:
        return self.results[-1].messages

    @property
    def steps(self) -> int:
        return max(result.steps for result in self.results)

    def unfinished(self) -> list[str]:
        """Why the script stopped before its last turn, if it did."""
        played = len(self.results)
        if played == self.scripted:
            return []
        why = "no assistant answered" if self.speaker is None else "handed off to a person"
        return [f"{why} at turn {played} of {self.scripted}"]


@attrs.frozen
class CaseResult:
    name: str
    reasons: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.reasons


@attrs.frozen
class EvalReport:
    """The results of the cases run against ``assistant`` at ``version``."""

    assistant: str
    version: int
    results: tuple[CaseResult, ...]

    @property
    def passed(self) -> int:
        return sum(result.passed for result in self.results)

    @property
    def failed(self) -> int:
        return len(self.results) - self.passed

    @property
    def pass_rate(self) -> float:
        return self.passed / len(self.results) if self.results else 0.0


class TurnsOn(Protocol):
    """Makes the turns an evaluation plays: ``AgentTurns`` with the deployment's models and
    limits, over ``uow``, with ``tools`` and ``ledger``."""

    def __call__(
        self,
        uow: UnitOfWorkFactory[AssistantsUnitOfWork],
        *,
        tools: ToolCatalogue,
        ledger: UsageLedger,
    ) -> AgentTurns: ...


class Evaluation:
    def __init__(
        self,
        uow: UnitOfWorkFactory[EvaluationUnitOfWork],
        clock: Clock,
        *,
        turns: TurnsOn,
        tools: ToolCatalogue,
    ) -> None:
        self._uow = uow
        self._turns = turns
        self._tools = tools.rehearsal(keep=CONTROL_TOOLS)
        self._ledger = DetachedLedger(uow, clock)

    async def run(
        self,
        cases: Sequence[EvalCase],
        *,
        assistant: str,
        on_result: Callable[[CaseResult], None] | None = None,
        candidate: AssistantVersion | None = None,
    ) -> EvalReport:
        """Each case against ``assistant``'s live definition, or ``candidate``, a version
        of it that is not live, in order; ``on_result`` hears of each case as it ends.
        Refused for an assistant that is missing or off."""
        evaluated = await self._named(assistant)
        if evaluated is None:
            raise NotFound("assistant", assistant)
        uow: UnitOfWorkFactory[AssistantsUnitOfWork] = self._uow
        if candidate is not None:
            evaluated = attrs.evolve(evaluated, current=candidate)
            uow = Staged(self._uow, evaluated)
        if not evaluated.definition.enabled:
            raise RuleViolated(f"assistant {assistant!r} is disabled: enable it to evaluate it")
        turns = self._turns(uow, tools=self._tools, ledger=self._ledger)
        results = []
        for case in cases:
            result = CaseResult(case.name, tuple(await self._check(turns, case, assistant)))
            if on_result is not None:
                on_result(result)
            results.append(result)
        return EvalReport(assistant, evaluated.version, tuple(results))

    async def _check(self, turns: AgentTurns, case: EvalCase, assistant: str) -> list[str]:
        start = case.assistant or assistant
        if start != assistant:
            found = await self._named(start)
            if found is None or not found.definition.enabled:
                return [f"assistant {start!r} does not exist or is disabled"]
        try:
            played = await self._play(turns, case, start)
        except ExternalServiceUnavailable:
            raise  # an outage says nothing of the version: no case is judged on it
        except TaliaError as error:
            return [f"the turn failed: {error.detail}"]
        return case.expect.failures(played)

    async def _play(self, turns: AgentTurns, case: EvalCase, start: str) -> Played:
        conversation_id, contact_id = new_id(), new_id()
        history: list[Said] = []
        results: list[TurnResult] = []
        current: str | None = start
        for messages in case.turns:
            history += [Said(Role.USER, text) for text in messages]
            result = await turns.take(
                TurnRequest(
                    conversation_id=conversation_id,
                    contact_id=contact_id,
                    channel=case.channel.value,
                    contact_name=case.contact_name,
                    history=tuple(history),
                    assistant=current,
                )
            )
            results.append(result)
            if result.speaker is None or result.hand_off:
                break
            history += [Said(Role.ASSISTANT, text) for text in result.messages]
            current = result.speaker.name
        return Played(tuple(results), len(case.turns))

    async def _named(self, name: str) -> Assistant | None:
        async with self._uow(read_only=True) as uow:
            return await uow.assistants.by_name(name)


def _folded(text: str) -> str:
    """``text`` without case, accents or runs of spaces, for phrases to be compared."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def _tool_failures(expected: Sequence[ExpectedCall], calls: Sequence[ToolCall]) -> list[str]:
    called = list(dict.fromkeys(call.name for call in calls))
    wanted = list(dict.fromkeys(call.name for call in expected))
    reasons = [f"{name} was not called" for name in wanted if name not in called]
    reasons += [f"{name} was called, not expected" for name in called if name not in wanted]
    for call in expected:
        given = [_arguments(c) for c in calls if c.name == call.name]
        if given and call.arguments and not any(_includes(g, call.arguments) for g in given):
            shown = "; ".join(_json(g) for g in given)
            reasons.append(f"{call.name} was called with {shown}, not {_json(call.arguments)}")
    return reasons


def _arguments(call: ToolCall) -> Mapping[str, object]:
    try:
        value = json.loads(call.arguments)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _includes(given: Mapping[str, object], wanted: Mapping[str, object]) -> bool:
    return all(name in given and given[name] == value for name, value in wanted.items())


def _json(value: Mapping[str, object]) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _quoted(phrase: str) -> str:
    return json.dumps(phrase, ensure_ascii=False)
