"""The eval gate on a scripted model: a revision goes live only when it does no worse on
the assistant's eval set than the live version; a worse one is kept, rejected."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from functools import partial
from typing import Any

import attrs
import pytest

from adapters.memory.database import InMemoryDatabase
from adapters.memory.language import FakeLanguageModel
from adapters.memory.unit_of_work import InMemoryUnitOfWork
from talia_core.assistants.admin import AssistantAdmin
from talia_core.assistants.builtins import HandOffToHuman, TransferToAssistant
from talia_core.assistants.capabilities import Capabilities
from talia_core.assistants.definition import Assistant, Definition
from talia_core.assistants.gate import RevisionRejected
from talia_core.assistants.language import ModelEvent, ModelReply, ModelRequest, Role, Said
from talia_core.assistants.ledger import UsageLedger
from talia_core.assistants.tools import ToolCatalogue
from talia_core.assistants.turn import AgentTurns, TurnRequest
from talia_core.shared.clock import FakeClock
from talia_core.shared.errors import Conflict
from talia_core.shared.pagination import PageRequest
from tests.unit.assistants import builders

ADMIN = "admin-1"
CASES = [
    {"name": "saluda", "messages": ["hola"], "expect": {"contains": ["hola"]}},
    {"name": "precios", "messages": ["precio"], "expect": {"contains": ["S/ 49"]}},
]
GOOD, BAD = ("¡Hola!", "El plan cuesta S/ 49."), ("¡Hola!", "No sé.")


@attrs.define
class Gate:
    model: FakeLanguageModel
    admin: AssistantAdmin
    turns: AgentTurns
    clock: FakeClock
    assistant: Assistant

    def answers(self, *texts: str) -> None:
        for text in texts:
            self.model.answer(text)

    async def revise(self, instructions: str, **options: Any) -> Assistant:
        changes = {"instructions": instructions, **options.pop("changes", {})}
        return await self.admin.revise(self.assistant.id, changes, by=ADMIN, **options)

    async def live(self) -> Assistant:
        return await self.admin.get(self.assistant.id)

    async def versions(self) -> list[Any]:
        return list((await self.admin.versions(self.assistant.id, PageRequest())).items)


@pytest.fixture
async def gate() -> Gate:
    uow = partial(InMemoryUnitOfWork, InMemoryDatabase())
    clock, model = FakeClock(), FakeLanguageModel()
    tools = ToolCatalogue([HandOffToHuman(), TransferToAssistant()])
    capabilities = Capabilities(tools=tools.names(), models={"openai": ["gpt-4.1-mini"]})
    admin = builders.admin(uow, clock, capabilities, models={"openai": model}, tools=tools)
    turns = AgentTurns(
        uow, clock, models={"openai": model}, tools=tools, ledger=UsageLedger(uow, clock)
    )
    definition = Definition(
        provider="openai", model="gpt-4.1-mini", instructions="v1", channels=["webchat"]
    )
    assistant = await admin.create("front-desk", definition, by=ADMIN)
    await admin.put_eval_set(assistant.id, CASES, by=ADMIN)
    return Gate(model, admin, turns, clock, assistant)


@pytest.fixture
async def required(gate: Gate) -> Gate:
    """The gate on; version 2 live, let through on a par with version 1: each passes one
    case of two, as its report says."""
    gate.answers(*BAD, *BAD)
    await gate.revise("v2", require_eval=True)
    return gate


async def test_a_first_gated_revision_evaluates_the_live_version_too(gate: Gate) -> None:
    gate.answers(*BAD, *GOOD)

    revised = await gate.revise("v2", require_eval=True)

    assert len(gate.model.requests) == 4
    assert [r.instructions for r in gate.model.requests] == ["v1", "v1", "v2", "v2"]
    assert (revised.version, revised.require_eval) == (2, True)
    assert revised.current.report is not None
    assert (revised.current.report.passed, revised.current.report.failed) == (2, 0)
    [second, first] = await gate.versions()
    assert first.report is not None
    assert (first.report.passed, first.report.failing) == (1, ("precios",))
    assert second.rejected is None


async def test_a_revision_with_an_equal_pass_rate_goes_live(required: Gate) -> None:
    required.answers(*BAD)

    revised = await required.revise("v3")

    assert revised.version == 3
    assert len(required.model.requests) == 6  # the live version's report was reused


async def test_a_revision_with_a_better_pass_rate_goes_live(required: Gate) -> None:
    required.answers(*GOOD)

    revised = await required.revise("v3")

    assert (revised.version, revised.definition.instructions) == (3, "v3")
    assert revised.current.report is not None
    assert revised.current.report.pass_rate == 1.0


async def test_a_worse_revision_is_kept_rejected_and_the_live_version_stays(
    required: Gate,
) -> None:
    required.model.answer("¿Qué tal?")
    required.model.answer("No sé.")

    with pytest.raises(RevisionRejected) as refused:
        await required.revise("v3")

    assert refused.value.fields == {
        "cases[saluda]": 'the answer does not say "hola"',
        "cases[precios]": 'the answer does not say "S/ 49"',
    }
    assert refused.value.detail.startswith(
        "version 3 was not made live: its pass rate, 0 of 2 cases (0%), is below live "
        "version 2's, 1 of 2 cases (50%)"
    )
    live = await required.live()
    assert (live.version, live.newest, live.definition.instructions) == (2, 3, "v2")
    rejected = (await required.versions())[0]
    assert rejected.version == 3
    assert rejected.rejected == refused.value.version.rejected
    assert rejected.report is not None
    assert rejected.report.failing == ("saluda", "precios")


async def test_turns_answer_with_the_live_version_not_a_newer_rejected_one(
    required: Gate,
) -> None:
    required.answers("mal", "mal")
    with pytest.raises(RevisionRejected):
        await required.revise("v3")
    required.answers("¡Hola!")

    result = await required.turns.take(
        TurnRequest("conv-1", "contact-1", "webchat", None, (Said(Role.USER, "hola"),))
    )

    assert result.speaker is not None
    assert result.speaker.version == 2
    assert required.model.requests[-1].instructions == "v2"


async def test_the_next_revision_after_a_rejected_one_takes_the_next_number(
    required: Gate,
) -> None:
    required.answers("mal", "mal")
    with pytest.raises(RevisionRejected):
        await required.revise("v3")
    required.answers(*GOOD)

    revised = await required.revise("v4")

    assert (revised.version, revised.newest) == (4, 4)
    assert [v.version for v in await required.versions()] == [4, 3, 2, 1]


async def test_a_new_eval_set_has_the_live_version_evaluated_again(required: Gate) -> None:
    await required.admin.put_eval_set(required.assistant.id, CASES[:1], by=ADMIN)
    required.answers("¡Hola!", "¡Hola!")

    revised = await required.revise("v3")

    assert revised.version == 3
    assert [r.instructions for r in required.model.requests[-2:]] == ["v2", "v3"]


async def test_without_require_eval_a_revision_goes_live_unevaluated(gate: Gate) -> None:
    revised = await gate.revise("v2")

    assert (revised.version, revised.current.report) == (2, None)
    assert gate.model.requests == []


async def test_switching_the_gate_on_alone_makes_no_version(gate: Gate) -> None:
    switched = await gate.admin.revise(gate.assistant.id, {}, by=ADMIN, require_eval=True)

    assert (switched.version, switched.require_eval) == (1, True)
    assert (await gate.live()).require_eval is True
    assert gate.model.requests == []


async def test_disabling_an_assistant_is_never_held_back(required: Gate) -> None:
    requests = len(required.model.requests)

    disabled = await required.revise("v2", changes={"enabled": False})

    assert (disabled.version, disabled.definition.enabled) == (3, False)
    assert len(required.model.requests) == requests


async def test_an_assistant_without_an_eval_set_is_not_gated() -> None:
    uow = partial(InMemoryUnitOfWork, InMemoryDatabase())
    clock = FakeClock()
    admin = builders.admin(
        uow, clock, Capabilities(tools=frozenset(), models={"offline": ["rules"]})
    )
    definition = Definition(provider="offline", model="rules", instructions="v1")
    created = await admin.create("front-desk", definition, by=ADMIN, require_eval=True)

    revised = await admin.revise(created.id, {"instructions": "v2"}, by=ADMIN)

    assert (revised.version, revised.require_eval) == (2, True)


@attrs.define
class Meddling:
    """A model whose first call has ``meddle`` run first: another admin's change."""

    model: FakeLanguageModel
    meddle: Callable[[], Awaitable[object]] | None = None

    async def complete(self, request: ModelRequest) -> ModelReply:
        meddle, self.meddle = self.meddle, None
        if meddle is not None:
            await meddle()
        return await self.model.complete(request)

    def stream(self, request: ModelRequest) -> AsyncIterator[ModelEvent]:
        return self.model.stream(request)


async def test_a_revision_made_while_another_is_evaluated_is_a_conflict() -> None:
    uow = partial(InMemoryUnitOfWork, InMemoryDatabase())
    meddling = Meddling(FakeLanguageModel())
    capabilities = Capabilities(tools=frozenset(), models={"openai": ["gpt-4.1-mini"]})
    admin = builders.admin(uow, FakeClock(), capabilities, models={"openai": meddling})
    definition = Definition(provider="openai", model="gpt-4.1-mini", instructions="v1")
    created = await admin.create("front-desk", definition, by=ADMIN, require_eval=True)
    await admin.put_eval_set(created.id, CASES, by=ADMIN)
    meddling.meddle = partial(
        admin.revise, created.id, {"temperature": 1.0}, by="admin-2", require_eval=False
    )

    with pytest.raises(Conflict, match="changed while version 2"):
        await admin.revise(created.id, {"instructions": "v2"}, by=ADMIN)

    live = await admin.get(created.id)
    assert (live.version, live.newest, live.definition.temperature) == (2, 2, 1.0)
    assert live.definition.instructions == "v1"
