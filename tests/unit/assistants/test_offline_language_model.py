"""The offline language model: the answer contract, and how its rules call tools and answer
from what the tools said.

Its answers cannot be scripted step by step (they follow from its rules), and it calls no
provider that could fail or refuse, so of the contract it runs ``AnswerContract``; what
the rest asks of tool calls is pinned here, by rules."""

from __future__ import annotations

import json
from typing import Any

import attrs
import pytest

from adapters.assistant.definition import load_definition, parse_definition
from adapters.language.offline import OfflineLanguageModel
from entrypoints.wiring.choices import DEMO_ASSISTANT
from talia_core.assistants.language import (
    InputItem,
    LanguageModel,
    ModelReply,
    ModelRequest,
    Role,
    Said,
    ToolCall,
    ToolOutput,
    ToolSpec,
)
from tests.contracts.assistants.language_model import AnswerContract, AnswerHarness, ask

GREETING = "¡Hola! Soy Tali."
FALLBACK = "No te entendí."
TO_A_PERSON = "Te paso con una persona."
GIVING_UP = "No logro ayudarte; te paso con una persona."
PRICES = "Los planes cuestan desde S/ 49."
PAYMENT = "Pagas con tarjeta por Izipay."
WHEN = "¿Para qué fecha es tu boda?"


def definition_data(greeting: str = GREETING) -> dict[str, Any]:
    return {
        "name": "Tali",
        "language": "es",
        "greeting": {"reply": greeting, "keywords": ["hola", "buenos dias"]},
        "fallback": FALLBACK,
        "media_reply": "Solo leo texto.",
        "hand_off": {
            "keywords": ["una persona", "asesor*"],
            "reply": TO_A_PERSON,
            "after_fallbacks": 2,
            "not_understood_reply": GIVING_UP,
            "tool": "handoff_to_human",
        },
        "answers": [
            {
                "id": "prices",
                "keywords": ["precio*", "cuánto cuesta"],
                "reply": PRICES,
                "follow_up": WHEN,
                "tool": "catalog_prices",
                "arguments": {"kind": "plan"},
                "tool_reply": "Hoy: {plans}.",
            },
            {"id": "payment", "keywords": ["pago*", "tarjeta"], "reply": PAYMENT},
        ],
    }


@attrs.define
class RulesHarness:
    """Scripts the model the one way it can be: by its definition. The contract's customer
    greets on the first turn, so a scripted text is the greeting."""

    model: LanguageModel = attrs.field(factory=lambda: rules_model())
    model_name: str = "rules"

    def will_answer(self, text: str) -> None:
        self.model = rules_model(definition_data(greeting=text))


class OfflineLanguageModelTests(AnswerContract):
    @pytest.fixture
    def harness(self) -> AnswerHarness:
        return RulesHarness()


def rules_model(data: dict[str, Any] | None = None) -> OfflineLanguageModel:
    return OfflineLanguageModel(parse_definition(data or definition_data()))


def spec(name: str) -> ToolSpec:
    return ToolSpec(name=name, description=f"The {name} tool.", parameters={"type": "object"})


CATALOG_PRICES = spec("catalog_prices")
HAND_OFF = spec("handoff_to_human")
GREETED: tuple[InputItem, ...] = (Said(Role.USER, "hola"), Said(Role.ASSISTANT, GREETING))


def request(
    *items: InputItem, tools: tuple[ToolSpec, ...] = (CATALOG_PRICES, HAND_OFF)
) -> ModelRequest:
    return ModelRequest("rules", items, instructions="Sé breve.", tools=tools)


async def complete(*items: InputItem, **tools: Any) -> ModelReply:
    return await rules_model().complete(request(*items, **tools))


def customer(text: str) -> Said:
    return Said(Role.USER, text)


# --- calling tools ------------------------------------------------------------------------


async def test_a_rule_naming_an_offered_tool_calls_it_with_its_arguments_and_says_nothing() -> None:
    reply = await complete(*GREETED, customer("¿Precios?"))

    assert reply.text is None
    assert reply.tool_calls == (ToolCall("call_3_0", "catalog_prices", '{"kind": "plan"}'),)


async def test_a_tool_not_offered_is_not_called_and_the_rule_says_its_reply() -> None:
    reply = await complete(*GREETED, customer("¿Precios?"), tools=(HAND_OFF,))

    assert (reply.text, reply.tool_calls) == (f"{PRICES}\n\n{WHEN}", ())


@pytest.mark.parametrize(
    "text", ["¿CUÁNTO CUESTA?", "cuanto cuesta!!", "Cuánto\ncuesta", "PRECIOS"]
)
async def test_case_accents_and_punctuation_are_normalised_as_the_offline_assistant_does(
    text: str,
) -> None:
    reply = await complete(*GREETED, customer(text))

    assert [call.name for call in reply.tool_calls] == ["catalog_prices"]


async def test_after_the_tools_output_the_model_answers_with_text_from_it_and_calls_nothing() -> (
    None
):
    question = customer("¿Precios?")
    first = await complete(*GREETED, question)
    output = ToolOutput(first.tool_calls[0].call_id, json.dumps({"plans": ["Esencial", 49]}))

    reply = await complete(*GREETED, question, *first.tool_calls, output)

    assert reply.text == f'Hoy: ["Esencial", 49].\n\n{WHEN}'
    assert reply.tool_calls == ()


@pytest.mark.parametrize("output", ['{"error": "the catalogue is empty"}', "not JSON", "[1, 2]"])
async def test_an_output_without_the_fields_of_the_template_gives_the_rules_reply(
    output: str,
) -> None:
    call = ToolCall("call_3_0", "catalog_prices", "{}")

    reply = await complete(*GREETED, customer("¿Precios?"), call, ToolOutput("call_3_0", output))

    assert reply.text == f"{PRICES}\n\n{WHEN}"


async def test_the_first_turn_is_greeted_once_the_tool_answered() -> None:
    question = customer("Buenos días, ¿precios y formas de pago?")
    first = await complete(question)
    output = ToolOutput(first.tool_calls[0].call_id, '{"plans": "Esencial S/ 49"}')

    reply = await complete(question, *first.tool_calls, output)

    assert first.text is None
    assert reply.text == "\n\n".join((GREETING, "Hoy: Esencial S/ 49.", PAYMENT, WHEN))


# --- handing off --------------------------------------------------------------------------


async def test_asking_for_a_person_says_the_hand_off_reply_with_the_hand_off_call() -> None:
    reply = await complete(*GREETED, customer("quiero hablar con un ASESOR"))

    assert reply.text == TO_A_PERSON
    assert reply.tool_calls == (
        ToolCall("call_3_0", "handoff_to_human", '{"reason": "requested"}'),
    )


async def test_a_hand_off_after_other_tools_comes_with_the_text_made_of_their_outputs() -> None:
    question = customer("precios, y luego una persona")
    first = await complete(*GREETED, question)
    output = ToolOutput(first.tool_calls[0].call_id, '{"plans": "Esencial S/ 49"}')

    reply = await complete(*GREETED, question, *first.tool_calls, output)

    assert [call.name for call in first.tool_calls] == ["catalog_prices"]
    assert reply.text == f"Hoy: Esencial S/ 49.\n\n{TO_A_PERSON}"
    assert reply.tool_calls == (
        ToolCall("call_5_0", "handoff_to_human", '{"reason": "requested"}'),
    )


async def test_after_the_fallbacks_allowed_in_a_row_it_hands_off_as_not_understood() -> None:
    missed_once = (*GREETED, customer("¿venden globos?"), Said(Role.ASSISTANT, FALLBACK))

    assert (await complete(*GREETED, customer("¿y piñatas?"))).text == FALLBACK
    reply = await complete(*missed_once, customer("¿y piñatas?"))

    assert reply.text == GIVING_UP
    assert reply.tool_calls == (
        ToolCall("call_5_0", "handoff_to_human", '{"reason": "not_understood"}'),
    )


async def test_without_the_hand_off_tool_the_hand_off_is_only_said() -> None:
    reply = await complete(*GREETED, customer("una persona, por favor"), tools=())

    assert (reply.text, reply.tool_calls) == (TO_A_PERSON, ())


# --- the rest of a turn -------------------------------------------------------------------


async def test_a_follow_up_the_assistant_already_asked_is_not_asked_again() -> None:
    asked = Said(Role.ASSISTANT, f"{PRICES}\n\n{WHEN}")

    reply = await complete(*GREETED, customer("¿precios?"), asked, customer("¿precios?"), tools=())

    assert reply.text == PRICES


async def test_with_nothing_to_answer_it_says_nothing() -> None:
    assert (await complete(*GREETED)).text is None
    assert (await complete(*GREETED, customer("👍"))).text is None


async def test_the_same_request_always_gets_the_same_reply() -> None:
    asked = request(customer("Hola, ¿precios?"))

    replies = [await rules_model().complete(asked) for _ in range(3)]
    streamed = await ask(rules_model(), asked, "stream")

    assert replies == [replies[0]] * 3 == [streamed] * 3


# --- the demo -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tool"),
    [
        ("¿Cuál es el precio?", "catalog_prices"),
        ("Quiero hablar con una persona", "handoff_to_human"),
    ],
)
async def test_the_demo_calls_its_tools(text: str, tool: str) -> None:
    demo = OfflineLanguageModel(load_definition(DEMO_ASSISTANT))

    reply = await demo.complete(request(*GREETED, customer(text)))

    assert [call.name for call in reply.tool_calls] == [tool]
