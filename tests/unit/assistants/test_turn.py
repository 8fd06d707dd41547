"""The assistant's turn on a scripted model: tools, transfers, hand-offs, fallbacks, limits."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import partial
from typing import Any

import attrs
import pytest

from adapters.memory.database import InMemoryDatabase
from adapters.memory.language import FakeLanguageModel
from adapters.memory.tokens import FakeTokenCounter
from adapters.memory.unit_of_work import InMemoryUnitOfWork
from talia_core.assistants.admin import AssistantAdmin
from talia_core.assistants.builtins import HandOffToHuman, TransferToAssistant
from talia_core.assistants.capabilities import Capabilities
from talia_core.assistants.definition import Definition, Fallback, FallbackKind
from talia_core.assistants.language import (
    Role,
    Said,
    ToolCall,
    ToolOutput,
    ToolSpec,
)
from talia_core.assistants.ledger import UsageLedger
from talia_core.assistants.prices import ModelPrice, PriceTable
from talia_core.assistants.tools import ToolCatalogue, ToolContext, ToolOutcome
from talia_core.assistants.turn import AgentTurns, TurnRequest
from talia_core.assistants.usage import ModelCall, Outcome
from talia_core.shared.clock import FakeClock
from talia_core.shared.errors import ExternalServiceUnavailable, NotFound, RequestRefused
from talia_core.shared.money import Money
from talia_core.shared.pagination import PageRequest
from tests.unit.assistants import builders


@attrs.define
class PriceList:
    """A reading tool that records whom it was run for."""

    contexts: list[ToolContext] = attrs.Factory(list)
    spec = ToolSpec(
        name="catalog_prices",
        description="Prices of the plans.",
        parameters={
            "type": "object",
            "properties": {"plan": {"type": "string", "enum": ["Básico", "Premium"]}},
            "required": ["plan"],
            "additionalProperties": False,
        },
    )
    acts = False

    async def run(self, arguments: Mapping[str, Any], context: ToolContext) -> ToolOutcome:
        self.contexts.append(context)
        if arguments["plan"] == "Premium":
            raise NotFound("plan", "Premium")
        return ToolOutcome.of({"plan": arguments["plan"], "price": "S/ 150.00"})


class Down:
    spec = ToolSpec("order_status", "An order.", {"type": "object"})
    acts = False

    async def run(self, arguments: Mapping[str, Any], context: ToolContext) -> ToolOutcome:
        raise ExternalServiceUnavailable("database", "gone")


TOOLS = ("catalog_prices", "order_status", "handoff_to_human", "transfer_to_assistant")


@attrs.define
class World:
    prices: PriceList
    model: FakeLanguageModel
    offline: FakeLanguageModel
    admin: AssistantAdmin
    turns: AgentTurns
    uow: Any
    ledger: UsageLedger

    async def calls(self) -> list[tuple[str, str]]:
        """The model calls the ledger holds, as (provider, outcome), sorted."""
        today = FakeClock().now().date()
        page = await self.ledger.calls(today, today, PageRequest(limit=100))
        return sorted((call.provider.value, call.outcome.value) for call in page.items)

    async def assistant(self, name: str, **fields: Any) -> None:
        values = {
            "provider": "openai",
            "model": "gpt-4.1-mini",
            "instructions": "Eres {name_of_shop}; saluda a {contact_name}. {unknown}",
            "variables": {"name_of_shop": "Talia"},
            "tools": TOOLS,
            **fields,
        }
        await self.admin.create(name, Definition(**values), by="admin-1")


@pytest.fixture
def world() -> World:
    database = InMemoryDatabase()
    uow = partial(InMemoryUnitOfWork, database)
    prices, model, offline = PriceList(), FakeLanguageModel(), FakeLanguageModel()
    capabilities = Capabilities(
        tools=frozenset(TOOLS), models={"openai": ["gpt-4.1-mini"], "offline": ["rules"]}
    )
    catalogue = ToolCatalogue([prices, Down(), HandOffToHuman(), TransferToAssistant()])
    clock = FakeClock()
    ledger = UsageLedger(uow, clock)
    turns = AgentTurns(
        uow,
        clock,
        models={"openai": model, "offline": offline},
        tools=catalogue,
        ledger=ledger,
        max_transfers=2,
    )
    admin = builders.admin(uow, clock, capabilities)
    return World(prices, model, offline, admin, turns, uow, ledger)


def _request(*texts: str, assistant: str | None = None, channel: str = "webchat") -> TurnRequest:
    return TurnRequest(
        conversation_id="conv-1",
        contact_id="contact-1",
        channel=channel,
        contact_name="Ana",
        history=tuple(Said(Role.USER, text) for text in texts),
        assistant=assistant,
    )


def _call(name: str, arguments: Any, call_id: str = "call-1") -> ToolCall:
    return ToolCall(
        call_id, name, arguments if isinstance(arguments, str) else json.dumps(arguments)
    )


async def test_the_channels_entry_assistant_answers_with_its_instructions_filled_in(
    world: World,
) -> None:
    await world.assistant("front-desk", channels=["webchat"])
    world.model.answer("¡Hola Ana!")

    result = await world.turns.take(_request("hola"))

    assert result.messages == ("¡Hola Ana!",)
    assert result.speaker is not None
    assert (result.speaker.name, result.speaker.version) == ("front-desk", 1)
    sent = world.model.requests[0]
    assert sent.instructions == "Eres Talia; saluda a Ana. {unknown}"
    assert sent.input == (Said(Role.USER, "hola"),)
    assert [tool.name for tool in sent.tools] == list(TOOLS)
    assert await world.calls() == [("openai", "answered")]


async def test_a_channel_without_an_assistant_gets_no_answer(world: World) -> None:
    result = await world.turns.take(_request("hola", channel="chatwoot"))

    assert result.speaker is None
    assert result.messages == ()
    assert world.model.requests == []


async def test_a_tool_answer_goes_back_to_the_model_which_then_answers(world: World) -> None:
    await world.assistant("front-desk", channels=["webchat"])
    world.model.answer(tool_calls=[_call("catalog_prices", {"plan": "Básico"})])
    world.model.answer("El plan Básico cuesta S/ 150.00")

    result = await world.turns.take(_request("¿cuánto cuesta el básico?"))

    assert result.messages == ("El plan Básico cuesta S/ 150.00",)
    second = world.model.requests[1].input
    assert second[-2] == _call("catalog_prices", {"plan": "Básico"})
    assert isinstance(second[-1], ToolOutput)
    assert json.loads(second[-1].output) == {"plan": "Básico", "price": "S/ 150.00"}
    assert [event.call.name for event in result.events] == ["catalog_prices"]
    assert world.prices.contexts == [ToolContext("conv-1", "contact-1", "webchat", "front-desk")]


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        ("{not json", "not JSON"),
        ({"plan": "Oro"}, "must be one of"),
        ({}, "arguments.plan is required"),
        ({"plan": "Básico", "customer": "someone-else"}, "not a known argument"),
    ],
)
async def test_bad_arguments_are_answered_to_the_model_which_tries_again(
    world: World, arguments: Any, error: str
) -> None:
    await world.assistant("front-desk", channels=["webchat"])
    world.model.answer(tool_calls=[_call("catalog_prices", arguments)])
    world.model.answer(tool_calls=[_call("catalog_prices", {"plan": "Básico"}, "call-2")])
    world.model.answer("S/ 150.00")

    result = await world.turns.take(_request("precio"))

    assert result.messages == ("S/ 150.00",)
    first_answer = world.model.requests[1].input[-1]
    assert isinstance(first_answer, ToolOutput)
    assert error in json.loads(first_answer.output)["error"]
    assert len(world.prices.contexts) == 1


async def test_a_core_error_of_a_tool_is_answered_to_the_model(world: World) -> None:
    await world.assistant("front-desk", channels=["webchat"])
    world.model.answer(tool_calls=[_call("catalog_prices", {"plan": "Premium"})])
    world.model.answer("No tenemos ese plan.")

    result = await world.turns.take(_request("premium"))

    assert result.messages == ("No tenemos ese plan.",)
    assert "does not exist" in result.events[0].output


async def test_a_tool_the_definition_does_not_give_is_not_run(world: World) -> None:
    await world.assistant("front-desk", channels=["webchat"], tools=["handoff_to_human"])
    world.model.answer(tool_calls=[_call("catalog_prices", {"plan": "Básico"})])
    world.model.answer("No puedo.")

    await world.turns.take(_request("precio"))

    assert world.prices.contexts == []
    assert [tool.name for tool in world.model.requests[0].tools] == ["handoff_to_human"]


async def test_a_tool_whose_dependency_is_down_fails_the_turn_for_its_job_to_retry(
    world: World,
) -> None:
    await world.assistant("front-desk", channels=["webchat"])
    world.model.answer(tool_calls=[_call("order_status", {})])

    with pytest.raises(ExternalServiceUnavailable):
        await world.turns.take(_request("mi pedido"))


async def test_a_hand_off_ends_the_turn_for_a_person(world: World) -> None:
    await world.assistant("front-desk", channels=["webchat"])
    world.model.answer("Te paso con el equipo.", [_call("handoff_to_human", {"reason": "queja"})])

    result = await world.turns.take(_request("quiero reclamar"))

    assert result.hand_off
    assert result.messages == ("Te paso con el equipo.",)
    assert len(world.model.requests) == 1


async def test_a_transfer_hands_the_turn_to_the_specialist_who_answers(world: World) -> None:
    await world.assistant("sales", instructions="Vendes.")
    await world.assistant("front-desk", channels=["webchat"], handoffs=["sales"])
    world.model.answer(tool_calls=[_call("transfer_to_assistant", {"assistant": "sales"})])
    world.model.answer("Soy de ventas.")

    result = await world.turns.take(_request("quiero comprar"))

    assert result.speaker is not None
    assert result.speaker.name == "sales"
    assert result.messages == ("Soy de ventas.",)
    assert world.model.requests[1].instructions == "Vendes."
    assert world.model.requests[1].input == (Said(Role.USER, "quiero comprar"),)


async def test_the_conversations_current_assistant_answers_the_next_turn(world: World) -> None:
    await world.assistant("sales", instructions="Vendes.")
    await world.assistant("front-desk", channels=["webchat"], handoffs=["sales"])
    world.model.answer("Sigo yo.")

    result = await world.turns.take(_request("¿y el envío?", assistant="sales"))

    assert result.speaker is not None
    assert result.speaker.name == "sales"


async def test_a_transfer_the_definition_does_not_allow_is_refused_to_the_model(
    world: World,
) -> None:
    await world.assistant("sales", instructions="Vendes.")
    await world.assistant("front-desk", channels=["webchat"])
    world.model.answer(tool_calls=[_call("transfer_to_assistant", {"assistant": "sales"})])
    world.model.answer("Te ayudo yo.")

    result = await world.turns.take(_request("comprar"))

    assert result.speaker is not None
    assert result.speaker.name == "front-desk"
    assert "no transfer to 'sales'" in result.events[0].output


async def test_a_loop_of_transfers_is_cut_after_the_limit(world: World) -> None:
    await world.assistant("a", instructions="A.")
    await world.assistant("b", instructions="B.", handoffs=["a"])
    await world.admin.revise((await _id(world, "a")), {"handoffs": ("b",)}, by="admin-1")
    for _ in range(3):
        world.model.answer(tool_calls=[_call("transfer_to_assistant", {"assistant": "b"})])
        world.model.answer(tool_calls=[_call("transfer_to_assistant", {"assistant": "a"})])
    world.model.answer("Respondo yo.")

    result = await world.turns.take(_request("hola", assistant="a"))

    transfers = [e for e in result.events if "transferred_to" in e.output]
    assert len(transfers) == 2
    assert "too many transfers" in result.events[2].output


async def _id(world: World, name: str) -> str:
    page = await world.admin.list(PageRequest())
    return next(a.id for a in page.items if a.name == name)


async def test_an_unavailable_provider_is_answered_by_the_offline_fallback(world: World) -> None:
    await world.assistant(
        "front-desk", channels=["webchat"], fallback=Fallback(FallbackKind.OFFLINE)
    )
    world.model.fail_next()
    world.offline.answer("Hola, soy el asistente sin conexión.")

    result = await world.turns.take(_request("hola"))

    assert result.messages == ("Hola, soy el asistente sin conexión.",)
    assert world.offline.requests[0].model == "rules"
    assert await world.calls() == [("offline", "answered"), ("openai", "failed")]


async def test_an_unavailable_provider_with_a_person_as_fallback_hands_off(world: World) -> None:
    await world.assistant("front-desk", channels=["webchat"])
    world.model.fail_next()

    result = await world.turns.take(_request("hola"))

    assert result.hand_off
    assert result.messages == ()


async def test_a_fallback_that_is_down_too_fails_the_turn_for_its_job_to_retry(
    world: World,
) -> None:
    await world.assistant(
        "front-desk", channels=["webchat"], fallback=Fallback(FallbackKind.OFFLINE)
    )
    world.model.fail_next()
    world.offline.fail_next()

    with pytest.raises(ExternalServiceUnavailable):
        await world.turns.take(_request("hola"))


async def test_a_model_that_keeps_calling_tools_is_stopped_and_its_fallback_answers(
    world: World,
) -> None:
    await world.assistant(
        "front-desk",
        channels=["webchat"],
        max_tool_steps=2,
        fallback=Fallback(FallbackKind.OFFLINE),
    )
    for n in range(2):
        world.model.answer(tool_calls=[_call("catalog_prices", {"plan": "Básico"}, f"c{n}")])
    world.offline.answer("Los precios están en la web.")

    result = await world.turns.take(_request("precio"))

    assert len(world.model.requests) == 2
    assert result.messages == ("Los precios están en la web.",)
    assert world.offline.requests[0].tools == ()


async def test_only_the_newest_history_that_fits_the_budget_is_sent(world: World) -> None:
    turns = AgentTurns(
        world.uow,
        FakeClock(),
        models={"openai": world.model},
        tools=ToolCatalogue([]),
        ledger=world.ledger,
        history_tokens=5,
    )
    await world.assistant("front-desk", channels=["webchat"], tools=[])

    await turns.take(_request("a" * 12, "b" * 8, "c" * 30))

    assert world.model.requests[0].input == (Said(Role.USER, "c" * 30),)


async def test_the_history_is_counted_by_the_providers_counter_for_the_definitions_model(
    world: World,
) -> None:
    counter = FakeTokenCounter()  # a token a word: 40 letters are 1, not the estimate's 10
    turns = AgentTurns(
        world.uow,
        FakeClock(),
        models={"openai": world.model},
        tools=ToolCatalogue([]),
        ledger=world.ledger,
        tokens={"openai": counter},
        history_tokens=5,
    )
    await world.assistant("front-desk", channels=["webchat"], tools=[])

    await turns.take(_request("x" * 40, "y" * 40, "z" * 40))

    assert len(world.model.requests[0].input) == 3
    assert set(counter.models) == {"gpt-4.1-mini"}


class BatchesLedger(UsageLedger):
    """The ledger, noting the calls it is handed at each record."""

    def __init__(self, uow: Any, clock: FakeClock) -> None:
        super().__init__(uow, clock)
        self.batches: list[tuple[ModelCall, ...]] = []

    async def record(self, *calls: ModelCall) -> None:
        self.batches.append(calls)
        await super().record(*calls)


def _turns_recording(world: World) -> tuple[AgentTurns, BatchesLedger]:
    ledger = BatchesLedger(world.uow, FakeClock())
    catalogue = ToolCatalogue([world.prices, Down()])
    turns = AgentTurns(
        world.uow,
        FakeClock(),
        models={"openai": world.model, "offline": world.offline},
        tools=catalogue,
        ledger=ledger,
    )
    return turns, ledger


async def test_a_turns_model_calls_are_recorded_together_when_it_ends(world: World) -> None:
    turns, ledger = _turns_recording(world)
    await world.assistant("front-desk", channels=["webchat"], tools=["catalog_prices"])
    world.model.answer(tool_calls=[_call("catalog_prices", {"plan": "Básico"})])
    world.model.answer("S/ 150.00")

    await turns.take(_request("precio"))

    assert [len(batch) for batch in ledger.batches] == [2]
    assert await world.calls() == [("openai", "answered"), ("openai", "answered")]


async def test_a_turn_that_fails_still_records_the_calls_it_made(world: World) -> None:
    turns, _ = _turns_recording(world)
    await world.assistant("front-desk", channels=["webchat"], tools=["order_status"])
    world.model.answer(tool_calls=[_call("order_status", {})])

    with pytest.raises(ExternalServiceUnavailable):
        await turns.take(_request("mi pedido"))

    assert await world.calls() == [("openai", "answered")]


class BrokenLedger(BatchesLedger):
    """A ledger whose store fails at every record."""

    async def record(self, *calls: ModelCall) -> None:
        self.batches.append(calls)
        raise ExternalServiceUnavailable("database", "the usage could not be stored")


async def test_a_turn_that_fails_says_why_even_when_its_calls_cannot_be_recorded(
    world: World,
) -> None:
    ledger = BrokenLedger(world.uow, FakeClock())
    turns = AgentTurns(
        world.uow,
        FakeClock(),
        models={"openai": world.model},
        tools=ToolCatalogue([]),
        ledger=ledger,
    )
    await world.assistant("front-desk", channels=["webchat"])
    world.model.refuse_next("the model does not exist")

    with pytest.raises(RequestRefused, match="the model does not exist"):
        await turns.take(_request("hola"))

    assert [len(batch) for batch in ledger.batches] == [1]


async def test_a_call_earlier_in_the_turn_counts_against_the_budget_of_the_next(
    world: World,
) -> None:
    await world.ledger.set_prices(
        PriceTable((ModelPrice("openai", "gpt-4.1-mini", 1_000_000, 1_000_000),))
    )
    await world.assistant(
        "front-desk",
        channels=["webchat"],
        daily_budget=Money(1, "USD"),
        fallback=Fallback(FallbackKind.OFFLINE),
    )
    world.model.answer(tool_calls=[_call("catalog_prices", {"plan": "Básico"})])
    world.offline.answer("Los precios están en la web.")

    result = await world.turns.take(_request("precio"))

    assert result.messages == ("Los precios están en la web.",)
    assert len(world.model.requests) == 1
    assert await world.calls() == [
        ("offline", "answered"),
        ("openai", "answered"),
        ("openai", "fell_back"),
    ]


async def test_a_spent_daily_budget_lets_the_fallback_answer_and_says_why(world: World) -> None:
    await world.ledger.set_prices(
        PriceTable((ModelPrice("openai", "gpt-4.1-mini", 1_000_000, 1_000_000),))
    )
    await world.assistant(
        "front-desk",
        channels=["webchat"],
        daily_budget=Money(1, "USD"),
        fallback=Fallback(FallbackKind.OFFLINE),
    )
    world.model.answer("Primera respuesta.")
    world.offline.answer("Respuesta sin costo.")

    first = await world.turns.take(_request("hola"))
    second = await world.turns.take(_request("otra vez"))

    assert (first.messages, second.messages) == (("Primera respuesta.",), ("Respuesta sin costo.",))
    assert len(world.model.requests) == 1
    today = FakeClock().now().date()
    fell_back = await world.ledger.calls(today, today, PageRequest(), outcome=Outcome.FELL_BACK)
    [why] = [call.reason for call in fell_back.items]
    assert why is not None
    assert "daily budget" in why


async def test_with_drafting_the_models_stream_and_each_piece_is_passed_on(
    world: World,
) -> None:
    await world.assistant("front-desk", channels=["webchat"])
    world.model.answer(tool_calls=[_call("catalog_prices", {"plan": "Básico"})])
    world.model.answer("El plan Básico cuesta S/ 150.00")
    pieces: list[str] = []

    async def drafting(text: str) -> None:
        pieces.append(text)

    result = await world.turns.take(_request("precio"), drafting=drafting)

    assert result.messages == ("El plan Básico cuesta S/ 150.00",)
    assert len(pieces) > 1
    assert "".join(pieces) == "El plan Básico cuesta S/ 150.00"
