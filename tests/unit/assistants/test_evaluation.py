"""Evaluations on a scripted model: each expectation passes, or fails saying why."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
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
from talia_core.assistants.definition import (
    AssistantVersion,
    Channel,
    Definition,
    Fallback,
    FallbackKind,
)
from talia_core.assistants.evaluation import (
    CaseResult,
    EvalCase,
    Evaluation,
    Expectations,
    ExpectedCall,
)
from talia_core.assistants.language import Role, Said, ToolCall, ToolOutput, ToolSpec
from talia_core.assistants.ledger import UsageLedger
from talia_core.assistants.tools import ToolCatalogue, ToolContext, ToolOutcome
from talia_core.shared.clock import FakeClock
from talia_core.shared.errors import ExternalServiceUnavailable, NotFound, RuleViolated
from talia_core.shared.pagination import PageRequest
from tests.unit.assistants import builders

TOOLS = ("catalog_prices", "book_call", "handoff_to_human", "transfer_to_assistant")
T0 = datetime(2026, 1, 1, tzinfo=UTC)


@attrs.define
class Prices:
    """A reading tool that keeps whom it was run for."""

    contexts: list[ToolContext] = attrs.Factory(list)
    spec = ToolSpec("catalog_prices", "Prices.", {"type": "object"})
    acts = False

    async def run(self, arguments: Mapping[str, Any], context: ToolContext) -> ToolOutcome:
        self.contexts.append(context)
        return ToolOutcome.of({"price": "S/ 49"})


@attrs.define
class Booking:
    """A tool that acts: it books a call for the contact, and keeps what it booked."""

    booked: list[Mapping[str, Any]] = attrs.Factory(list)
    spec = ToolSpec(
        "book_call",
        "Book a call.",
        {
            "type": "object",
            "properties": {"day": {"type": "string"}},
            "required": ["day"],
            "additionalProperties": False,
        },
    )
    acts = True

    async def run(self, arguments: Mapping[str, Any], context: ToolContext) -> ToolOutcome:
        self.booked.append(arguments)
        return ToolOutcome.of({"booked": arguments["day"]})


@attrs.define
class Bench:
    model: FakeLanguageModel
    prices: Prices
    booking: Booking
    admin: AssistantAdmin
    evaluation: Evaluation
    ledger: UsageLedger

    async def assistant(self, name: str, **fields: Any) -> None:
        values = {"provider": "openai", "model": "gpt-4.1-mini", "instructions": "Vendes."}
        await self.admin.create(name, Definition(**{**values, **fields}), by="admin-1")

    async def run(self, *cases: EvalCase) -> list[CaseResult]:
        report = await self.evaluation.run(cases, assistant="front-desk")
        return list(report.results)

    async def reasons(self, expect: Expectations, *messages: str) -> tuple[str, ...]:
        [result] = await self.run(case(*messages, expect=expect))
        return result.reasons


@pytest.fixture
async def bench() -> Bench:
    uow = partial(InMemoryUnitOfWork, InMemoryDatabase())
    clock, model, prices, booking = FakeClock(), FakeLanguageModel(), Prices(), Booking()
    tools = ToolCatalogue([prices, booking, HandOffToHuman(), TransferToAssistant()])
    capabilities = Capabilities(
        tools=frozenset(TOOLS), models={"openai": ["gpt-4.1-mini", "gpt-4.1-nano"]}
    )
    made = Bench(
        model,
        prices,
        booking,
        builders.admin(uow, clock, capabilities),
        builders.evaluation(uow, clock, models={"openai": model}, tools=tools),
        UsageLedger(uow, clock),
    )
    await made.assistant("sales")
    await made.assistant("front-desk", tools=TOOLS, handoffs=["sales"], channels=["webchat"])
    return made


def case(*messages: str, expect: Expectations, **fields: Any) -> EvalCase:
    return EvalCase(
        name=fields.pop("name", "a case"),
        turns=tuple((text,) for text in messages),
        expect=expect,
        **fields,
    )


def call(name: str, arguments: Mapping[str, Any] | None = None) -> ToolCall:
    return ToolCall(f"call-{name}", name, json.dumps(arguments or {}))


async def test_a_case_that_meets_every_expectation_passes(bench: Bench) -> None:
    bench.model.answer(tool_calls=[call("catalog_prices", {"kind": "plan", "plan": "Esencial"})])
    bench.model.answer("El plan Esencial cuesta S/ 49.")
    expect = Expectations(
        tools=(ExpectedCall("catalog_prices", {"kind": "plan"}),),
        hand_off=False,
        assistant="front-desk",
        contains=("ESENCIAL", "s/ 49"),
        not_contains=("Premium",),
        max_steps=2,
    )

    report = await bench.evaluation.run([case("precios", expect=expect)], assistant="front-desk")

    assert report.results == (CaseResult("a case", ()),)
    assert (report.assistant, report.version) == ("front-desk", 1)
    assert (report.passed, report.failed, report.pass_rate) == (1, 0, 1.0)


async def test_a_tool_expected_but_not_called_fails_naming_it(bench: Bench) -> None:
    bench.model.answer("Te paso con una persona.")

    reasons = await bench.reasons(Expectations(tools=(ExpectedCall("handoff_to_human"),)), "asesor")

    assert reasons == ("handoff_to_human was not called",)


async def test_a_tool_called_but_not_expected_fails_naming_it(bench: Bench) -> None:
    bench.model.answer(tool_calls=[call("catalog_prices")])
    bench.model.answer("S/ 49")

    reasons = await bench.reasons(Expectations(tools=()), "hola")

    assert reasons == ("catalog_prices was called, not expected",)


async def test_a_tool_called_with_other_arguments_fails_showing_both(bench: Bench) -> None:
    bench.model.answer(tool_calls=[call("catalog_prices", {"kind": "template"})])
    bench.model.answer("S/ 29")
    expect = Expectations(tools=(ExpectedCall("catalog_prices", {"kind": "plan"}),))

    reasons = await bench.reasons(expect, "precios")

    assert reasons == ('catalog_prices was called with {"kind": "template"}, not {"kind": "plan"}',)


async def test_a_router_that_says_it_hands_off_without_the_tool_fails(bench: Bench) -> None:
    bench.model.answer("Te comunico con una persona del equipo.")

    reasons = await bench.reasons(Expectations(hand_off=True), "quiero un humano")

    assert reasons == ("expected a hand-off to a person, none happened",)


async def test_an_unexpected_hand_off_fails(bench: Bench) -> None:
    bench.model.answer("Te paso.", [call("handoff_to_human")])

    reasons = await bench.reasons(Expectations(hand_off=False), "gracias")

    assert reasons == ("handed off to a person, not expected",)


async def test_the_assistant_answering_after_a_transfer_is_checked(bench: Bench) -> None:
    bench.model.answer(tool_calls=[call("transfer_to_assistant", {"assistant": "sales"})])
    bench.model.answer("Soy de ventas.")
    bench.model.answer("Hola, ¿en qué te ayudo?")

    [transferred, stayed] = await bench.run(
        case("quiero comprar", name="transfers", expect=Expectations(assistant="sales")),
        case("hola", name="stays", expect=Expectations(assistant="sales")),
    )

    assert transferred.passed
    assert stayed.reasons == ("expected sales to answer at the end, front-desk did",)


async def test_phrases_are_compared_without_case_or_accents(bench: Bench) -> None:
    bench.model.answer("Pagas en línea con tarjeta; no recibimos Yape.")
    expect = Expectations(
        contains=("pagas EN LINEA", "transferencia"), not_contains=("yapé", "efectivo")
    )

    reasons = await bench.reasons(expect, "¿puedo pagar con yape?")

    assert reasons == (
        'the answer does not say "transferencia"',
        'the answer says "yapé"',
    )


async def test_a_turn_taking_more_model_steps_than_allowed_fails(bench: Bench) -> None:
    bench.model.answer(tool_calls=[call("catalog_prices")])
    bench.model.answer("S/ 49")

    reasons = await bench.reasons(Expectations(max_steps=1), "precios")

    assert reasons == ("a turn took 2 model steps, at most 1 expected",)


async def test_turns_are_played_in_one_conversation_each_answer_in_the_next_history(
    bench: Bench,
) -> None:
    bench.model.answer("¡Hola!")
    bench.model.answer("S/ 49")
    turns = (("hola",), ("precio", "del plan"))

    [result] = await bench.run(
        EvalCase("two turns", turns, Expectations(contains=("S/ 49",)), Channel.WHATSAPP)
    )

    assert result.passed
    assert bench.model.requests[1].input == (
        Said(Role.USER, "hola"),
        Said(Role.ASSISTANT, "¡Hola!"),
        Said(Role.USER, "precio"),
        Said(Role.USER, "del plan"),
    )


async def test_a_hand_off_before_the_last_turn_ends_the_case_and_fails_it(bench: Bench) -> None:
    bench.model.answer("Te paso.", [call("handoff_to_human")])

    reasons = await bench.reasons(Expectations(hand_off=True), "reclamo", "¿sigues ahí?")

    assert reasons == ("handed off to a person at turn 1 of 2",)
    assert len(bench.model.requests) == 1


async def test_a_case_may_start_with_another_assistant(bench: Bench) -> None:
    bench.model.answer("Soy de ventas.")

    [started, missing] = await bench.run(
        case("hola", name="sales", assistant="sales", expect=Expectations(assistant="sales")),
        case("hola", name="nobody", assistant="nobody", expect=Expectations(hand_off=False)),
    )

    assert started.passed
    assert missing.reasons == ("assistant 'nobody' does not exist or is disabled",)


async def test_a_failing_turn_fails_its_case_and_the_next_cases_still_run(bench: Bench) -> None:
    bench.model.refuse_next("the model does not exist")
    bench.model.answer("Hola")

    [refused, answered] = await bench.run(
        case("hola", name="refused", expect=Expectations(hand_off=False)),
        case("hola", name="answered", expect=Expectations(hand_off=False)),
    )

    assert refused.reasons == (
        "the turn failed: fake-model refused the request: the model does not exist",
    )
    assert answered.passed


async def test_a_provider_down_with_its_fallback_stops_the_evaluation_rather_than_failing_it(
    bench: Bench,
) -> None:
    fallback = Fallback(to=FallbackKind.MODEL, provider="openai", model="gpt-4.1-nano")
    await bench.assistant("outage", fallback=fallback)
    bench.model.fail_next(2)  # the model, then its fallback

    with pytest.raises(ExternalServiceUnavailable):
        await bench.evaluation.run([case("hola", expect=Expectations())], assistant="outage")


async def test_each_case_is_heard_of_as_it_ends_and_the_pass_rate_counts_them(
    bench: Bench,
) -> None:
    bench.model.answer("Hola")
    bench.model.answer("Hola")
    heard: list[str] = []
    cases = [
        case("hola", name="greets", expect=Expectations(contains=("hola",))),
        case("hola", name="prices", expect=Expectations(contains=("S/",))),
    ]

    report = await bench.evaluation.run(
        cases, assistant="front-desk", on_result=lambda result: heard.append(result.name)
    )

    assert heard == ["greets", "prices"]
    assert (report.passed, report.failed, report.pass_rate) == (1, 1, 0.5)


async def test_each_case_has_a_conversation_of_its_own(bench: Bench) -> None:
    for _ in range(2):
        bench.model.answer(tool_calls=[call("catalog_prices")])
        bench.model.answer("S/ 49")

    await bench.run(
        case("precio", name="one", expect=Expectations(hand_off=False)),
        case("precio", name="two", expect=Expectations(hand_off=False)),
    )

    first, second = bench.prices.contexts
    assert first.conversation_id != second.conversation_id
    assert bench.model.requests[2].input == (Said(Role.USER, "precio"),)


async def test_an_unknown_assistant_is_refused(bench: Bench) -> None:
    with pytest.raises(NotFound):
        await bench.evaluation.run([], assistant="nobody")


async def test_a_disabled_assistant_is_refused(bench: Bench) -> None:
    await bench.assistant("retired", enabled=False)

    with pytest.raises(RuleViolated, match="disabled"):
        await bench.evaluation.run([], assistant="retired")


async def test_a_tool_that_acts_is_not_performed_but_its_call_is_checked(bench: Bench) -> None:
    bench.model.answer(tool_calls=[call("book_call", {"day": "lunes"})])
    bench.model.answer("Listo, te llamamos el lunes.")
    expect = Expectations(tools=(ExpectedCall("book_call", {"day": "lunes"}),), hand_off=False)

    reasons = await bench.reasons(expect, "llámenme el lunes")

    assert reasons == ()
    assert bench.booking.booked == []
    fed_back = [item for item in bench.model.requests[1].input if isinstance(item, ToolOutput)]
    assert [json.loads(item.output)["performed"] for item in fed_back] == [False]


async def test_a_dry_run_still_refuses_bad_arguments_as_the_tool_would(bench: Bench) -> None:
    bench.model.answer(tool_calls=[call("book_call", {"when": "lunes"})])
    bench.model.answer("Perdón.")

    await bench.reasons(Expectations(tools=(ExpectedCall("book_call"),)), "llámenme")

    [fed_back] = [item for item in bench.model.requests[1].input if isinstance(item, ToolOutput)]
    assert "bad arguments" in json.loads(fed_back.output)["error"]


async def test_an_evaluation_records_its_model_calls_under_no_conversation(bench: Bench) -> None:
    bench.model.answer(tool_calls=[call("catalog_prices")])
    bench.model.answer("S/ 49")

    await bench.reasons(Expectations(hand_off=False), "precio")

    today = FakeClock().now().date()
    calls = (await bench.ledger.calls(today, today, PageRequest())).items
    assert [(c.assistant_name, c.conversation_id) for c in calls] == [("front-desk", None)] * 2


async def test_a_candidate_version_is_played_in_the_live_ones_place(bench: Bench) -> None:
    live = await bench.admin.get(await _id(bench, "front-desk"))
    draft = live.draft(
        attrs.evolve(live.definition, instructions="Vendes invitaciones."), by="admin-1", at=T0
    )
    assert isinstance(draft, AssistantVersion)
    bench.model.answer("Hola")
    bench.model.answer("Hola")
    cases = [case("hola", expect=Expectations(assistant="front-desk"))]

    tried = await bench.evaluation.run(cases, assistant="front-desk", candidate=draft)
    played = await bench.evaluation.run(cases, assistant="front-desk")

    assert (tried.version, played.version) == (2, 1)
    instructions = [request.instructions for request in bench.model.requests]
    assert instructions == ["Vendes invitaciones.", "Vendes."]
    assert (await bench.admin.get(live.id)).version == 1


async def _id(bench: Bench, name: str) -> str:
    page = await bench.admin.list(PageRequest())
    return next(a.id for a in page.items if a.name == name)
