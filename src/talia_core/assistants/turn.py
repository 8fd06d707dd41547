"""The assistant's turn: the model answers the conversation, calling tools on the way.

A turn starts with the conversation's current assistant (or its channel's entry one),
sends the model the definition's instructions and the recent history, runs the tools the
model asks for and feeds their answers back, up to the definition's ``max_tool_steps``
model calls, then answers. A transfer hands the turn to another assistant (at most
``max_transfers`` a turn); a hand-off ends it for a person to answer. When the provider is
unavailable, or the assistant's daily budget is spent, the definition's fallback answers
instead: another model, the offline one, or a person. Every model call goes in the usage
ledger, all of a turn's together when it ends (see ``ledger``); the caller stores the answer
and the tool events (``TurnResult``).

History is kept within ``history_tokens``, newest messages first, counted for the
definition's model by its provider's ``TokenCounter`` (the documented estimate,
``EstimatedTokenCounter``, for a provider without one).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence

import attrs

from talia_core.assistants.definition import Assistant, Channel, Definition, FallbackKind
from talia_core.assistants.language import (
    InputItem,
    LanguageModel,
    ModelReply,
    ModelRequest,
    Said,
    ToolCall,
    ToolOutput,
    Usage,
)
from talia_core.assistants.ledger import UsageLedger
from talia_core.assistants.ports import AssistantsUnitOfWork
from talia_core.assistants.tokens import EstimatedTokenCounter, TokenCounter
from talia_core.assistants.tools import ToolCatalogue, ToolContext, ToolOutcome
from talia_core.assistants.usage import ModelCall, Outcome
from talia_core.shared.clock import Clock
from talia_core.shared.errors import ExternalServiceUnavailable, RequestRefused
from talia_core.shared.ports import UnitOfWorkFactory

logger = logging.getLogger("talia.assistants")

OFFLINE_PROVIDER = "offline"
OFFLINE_MODEL = "rules"
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_ESTIMATE = EstimatedTokenCounter()


@attrs.frozen
class TurnRequest:
    """The conversation as the assistant sees it: ``history`` oldest first, ending with the
    messages to answer; ``assistant`` is the conversation's current assistant, if any."""

    conversation_id: str
    contact_id: str
    channel: str
    contact_name: str | None
    history: tuple[Said, ...]
    assistant: str | None = None


@attrs.frozen
class Speaker:
    """The assistant, at the version, that produced an answer; how that version answers
    a voice note (``Definition.voice_replies``, ``voice``)."""

    id: str
    name: str
    version: int
    voice_replies: bool = False
    voice: str | None = None

    @classmethod
    def of(cls, assistant: Assistant) -> Speaker:
        definition = assistant.definition
        return cls(
            assistant.id,
            assistant.name,
            assistant.version,
            definition.voice_replies,
            definition.voice,
        )


@attrs.frozen
class ToolEvent:
    """A tool the model called and what it answered: kept so a person can see why."""

    speaker: Speaker
    call: ToolCall
    output: str


@attrs.frozen
class TurnResult:
    """``speaker`` answered ``messages`` (None: no assistant answers this channel);
    ``hand_off``: a person takes the conversation; ``speaker.name`` is the assistant that
    stays current after the turn's transfers; ``steps``: the model calls that answered."""

    messages: tuple[str, ...]
    speaker: Speaker | None
    hand_off: bool
    events: tuple[ToolEvent, ...] = ()
    steps: int = 0


Drafting = Callable[[str], Awaitable[None]]
"""Takes each piece of the answer as the model writes it."""


@attrs.define
class _Turn:
    """What a turn gathers as it goes."""

    request: TurnRequest
    drafting: Drafting | None = None
    events: list[ToolEvent] = attrs.Factory(list)
    texts: list[str] = attrs.Factory(list)
    calls: list[ModelCall] = attrs.Factory(list)
    """The model calls made, for the ledger when the turn ends."""
    transfers: int = 0
    steps: int = 0

    def result(self, speaker: Speaker | None, *, hand_off: bool = False) -> TurnResult:
        return TurnResult(tuple(self.texts), speaker, hand_off, tuple(self.events), self.steps)


@attrs.frozen
class _Transfer:
    target: Assistant


class BudgetSpent(Exception):
    """The assistant's daily budget does not allow the call: its fallback answers."""


class AgentTurns:
    def __init__(
        self,
        uow: UnitOfWorkFactory[AssistantsUnitOfWork],
        clock: Clock,
        *,
        models: Mapping[str, LanguageModel],
        tools: ToolCatalogue,
        ledger: UsageLedger,
        tokens: Mapping[str, TokenCounter] | None = None,
        max_transfers: int = 3,
        history_tokens: int = 3000,
    ) -> None:
        """``tokens``: the counter of each provider that has one, by its name."""
        self._uow = uow
        self._clock = clock
        self._ledger = ledger
        self._models = dict(models)
        self._tools = tools
        self._tokens = dict(tokens or {})
        self._max_transfers = max_transfers
        self._history_tokens = history_tokens

    async def take(self, request: TurnRequest, *, drafting: Drafting | None = None) -> TurnResult:
        """The turn's answer; with ``drafting``, the models stream and each piece of text
        goes to it as it is written. The model calls go in the ledger however it ends."""
        turn = _Turn(request, drafting)
        try:
            result = await self._play(turn)
        except BaseException:
            await self._record_after_failure(turn)
            raise
        await self._ledger.record(*turn.calls)
        return result

    async def _record_after_failure(self, turn: _Turn) -> None:
        """The calls of a turn that failed; a ledger that fails too is logged, so that the
        turn's own error is the one raised."""
        try:
            await self._ledger.record(*turn.calls)
        except Exception:
            logger.exception("the model calls of a failed turn could not be recorded")

    async def _play(self, turn: _Turn) -> TurnResult:
        assistant = await self._first(turn.request)
        if assistant is None:
            return turn.result(None)
        while True:
            answered = await self._answer(assistant, turn)
            if isinstance(answered, _Transfer):
                assistant = answered.target
                continue
            return answered

    async def _first(self, request: TurnRequest) -> Assistant | None:
        async with self._uow(read_only=True) as uow:
            if request.assistant is not None:
                current = await uow.assistants.by_name(request.assistant)
                if current is not None and current.definition.enabled:
                    return current
            try:
                channel = Channel(request.channel)
            except ValueError:
                return None
            return await uow.assistants.entry_for(channel)

    async def _answer(self, assistant: Assistant, turn: _Turn) -> TurnResult | _Transfer:
        definition = assistant.definition
        speaker = Speaker.of(assistant)
        context = ToolContext(
            turn.request.conversation_id,
            turn.request.contact_id,
            turn.request.channel,
            assistant.name,
            definition.knowledge,
        )
        items: list[InputItem] = list(self._window(definition, turn.request.history))
        for _ in range(definition.max_tool_steps):
            reply = await self._step(assistant, items, turn)
            if reply is None:
                return turn.result(speaker, hand_off=True)
            if reply.text:
                turn.texts.append(reply.text)
            if not reply.tool_calls:
                return turn.result(speaker)
            for call in reply.tool_calls:
                outcome = await self._tools.run(call, context, allowed=definition.tools)
                outcome, target = await self._transfer(outcome, definition, turn)
                turn.events.append(ToolEvent(speaker, call, outcome.output))
                if outcome.hand_off:
                    return turn.result(speaker, hand_off=True)
                if target is not None:
                    return _Transfer(target)
                items += [call, ToolOutput(call.call_id, outcome.output)]
        logger.warning(
            "assistant %s v%d still called tools after %d steps; its fallback answers",
            assistant.name,
            assistant.version,
            definition.max_tool_steps,
        )
        return await self._after_step_limit(assistant, items, turn)

    async def _transfer(
        self, outcome: ToolOutcome, definition: Definition, turn: _Turn
    ) -> tuple[ToolOutcome, Assistant | None]:
        """The assistant a transfer goes to, when the definition allows it and the turn's
        limit is not reached; otherwise an error for the model to read instead."""
        name = outcome.transfer_to
        if name is None:
            return outcome, None
        if name not in definition.handoffs:
            allowed = ", ".join(definition.handoffs) or "none"
            return ToolOutcome.error(f"no transfer to {name!r}; allowed: {allowed}"), None
        if turn.transfers >= self._max_transfers:
            return ToolOutcome.error("too many transfers in this turn: answer yourself"), None
        async with self._uow(read_only=True) as uow:
            target = await uow.assistants.by_name(name)
        if target is None or not target.definition.enabled:
            return ToolOutcome.error(f"assistant {name!r} is not available now"), None
        turn.transfers += 1
        return outcome, target

    async def _step(
        self, assistant: Assistant, items: Sequence[InputItem], turn: _Turn
    ) -> ModelReply | None:
        """The model's reply, or the fallback's; None when the fallback is a person."""
        definition = assistant.definition
        request = self._request(definition, turn.request, items)
        try:
            return await self._call(assistant, definition.provider.value, request, turn)
        except (ExternalServiceUnavailable, BudgetSpent) as error:
            fallback = _fallback(definition)
            logger.warning("assistant %s: %s; its fallback answers", assistant.name, error)
            if fallback is None:
                return None
            provider, model = fallback
            try:
                return await self._call(
                    assistant, provider, attrs.evolve(request, model=model), turn
                )
            except BudgetSpent:
                return None

    async def _after_step_limit(
        self, assistant: Assistant, items: Sequence[InputItem], turn: _Turn
    ) -> TurnResult:
        """A model still calling tools at the limit: the fallback answers without tools."""
        speaker = Speaker.of(assistant)
        fallback = _fallback(assistant.definition)
        if fallback is None:
            return turn.result(speaker, hand_off=True)
        provider, model = fallback
        request = attrs.evolve(
            self._request(assistant.definition, turn.request, items), model=model, tools=()
        )
        try:
            reply = await self._call(assistant, provider, request, turn)
        except BudgetSpent:
            return turn.result(speaker, hand_off=True)
        if reply.text:
            turn.texts.append(reply.text)
        return turn.result(speaker, hand_off=not reply.text)

    async def _call(
        self, assistant: Assistant, provider: str, request: ModelRequest, turn: _Turn
    ) -> ModelReply:
        """One model call, within the assistant's daily budget, recorded in the ledger."""
        model = self._models.get(provider)
        if model is None:
            raise ExternalServiceUnavailable(provider, "this provider is not configured")

        def record(usage: Usage | None, outcome: Outcome, reason: str | None = None) -> ModelCall:
            return ModelCall.made(
                assistant,
                provider=provider,
                model=request.model,
                usage=usage,
                at=self._clock.now(),
                conversation_id=turn.request.conversation_id,
                outcome=outcome,
                reason=reason,
            )

        if provider != OFFLINE_PROVIDER:  # the offline model costs nothing
            check = await self._ledger.within_budget(
                assistant, provider=provider, model=request.model, unrecorded=turn.calls
            )
            if not check.allowed:
                reason = check.reason or "the daily budget is spent"
                turn.calls.append(record(None, Outcome.FELL_BACK, reason))
                raise BudgetSpent(reason)
        try:
            reply = await _answer(model, request, turn.drafting)
        except (ExternalServiceUnavailable, RequestRefused) as error:
            turn.calls.append(record(None, Outcome.FAILED, error.detail))
            raise
        turn.steps += 1
        turn.calls.append(record(reply.usage, Outcome.ANSWERED))
        return reply

    def _request(
        self, definition: Definition, request: TurnRequest, items: Sequence[InputItem]
    ) -> ModelRequest:
        values = {**definition.variables, "contact_name": request.contact_name or ""}
        instructions = (
            None if definition.instructions is None else _render(definition.instructions, values)
        )
        return ModelRequest(
            model=definition.model,
            input=tuple(items),
            instructions=instructions,
            prompt=definition.prompt,
            tools=self._tools.specs(definition.tools),
            temperature=definition.temperature,
            max_output_tokens=definition.max_output_tokens,
        )

    def _window(self, definition: Definition, history: Sequence[Said]) -> list[Said]:
        """The newest messages that fit ``history_tokens`` for the definition's model; the
        last one always."""
        counter = self._tokens.get(definition.provider.value, _ESTIMATE)
        kept: list[Said] = []
        budget = self._history_tokens
        for said in reversed(history):
            budget -= counter.count(definition.model, said.text)
            if kept and budget < 0:
                break
            kept.append(said)
        return kept[::-1]


async def _answer(
    model: LanguageModel, request: ModelRequest, drafting: Drafting | None
) -> ModelReply:
    """The model's reply; streamed, piece by piece to ``drafting``, when there is one."""
    if drafting is None:
        return await model.complete(request)
    async for event in model.stream(request):
        if isinstance(event, ModelReply):
            return event
        await drafting(event.text)
    raise ExternalServiceUnavailable("model", "the stream ended without a reply")


def _fallback(definition: Definition) -> tuple[str, str] | None:
    """The provider and model that answer instead; None when a person does."""
    fallback = definition.fallback
    if fallback.to is FallbackKind.OFFLINE:
        return OFFLINE_PROVIDER, OFFLINE_MODEL
    if fallback.to is FallbackKind.MODEL and fallback.provider and fallback.model:
        return fallback.provider.value, fallback.model
    return None


def _render(text: str, values: Mapping[str, str]) -> str:
    """``{name}`` replaced by its value; an unknown name is left as written."""
    return _PLACEHOLDER.sub(lambda found: values.get(found.group(1), found.group(0)), text)
