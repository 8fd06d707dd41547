"""The offline assistant: the assistant contract on the demo definition, how it matches and
builds one reply per turn, how its definition is checked, and what the demo answers."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import entrypoints
from adapters.assistant.definition import (
    AssistantDefinition,
    load_definition,
    parse_definition,
)
from adapters.assistant.offline import OfflineAssistant
from talia_core.conversations.ports import HAND_OFF, AssistantReply, ToolCall, TurnMessage
from talia_core.shared.errors import RuleViolated
from tests.contracts.conversations.assistant import AssistantContract, a_turn, media, said

DEMO = Path(entrypoints.__file__).with_name("demo_assistant.json")

GREETING = "¡Hola! Soy Tali."
FALLBACK = "No te entendí."
MEDIA = "Solo leo texto."
TO_A_PERSON = "Te paso con una persona."
GIVING_UP = "No logro ayudarte; te paso con una persona."
PRICES = "Los planes cuestan desde S/ 49."
PAYMENT = "Pagas con tarjeta por Izipay."
TEMPLATES = "Tenemos Olivo y Marfil."
WHEN = "¿Para qué fecha es tu boda?"
STYLE = "¿Clásico o moderno?"


def definition_data() -> dict[str, Any]:
    return {
        "name": "Tali",
        "language": "es",
        "greeting": {"reply": GREETING, "keywords": ["hola", "buenos dias"]},
        "fallback": FALLBACK,
        "media_reply": MEDIA,
        "hand_off": {
            "keywords": ["una persona", "asesor*"],
            "reply": TO_A_PERSON,
            "after_fallbacks": 2,
            "not_understood_reply": GIVING_UP,
        },
        "answers": [
            {
                "id": "prices",
                "keywords": ["precio*", "cuánto cuesta", "plan"],
                "reply": PRICES,
                "follow_up": WHEN,
            },
            {"id": "payment", "keywords": ["pago*", "tarjeta"], "reply": PAYMENT},
            {
                "id": "templates",
                "keywords": ["diseño*", "plantilla*"],
                "reply": TEMPLATES,
                "follow_up": STYLE,
            },
        ],
    }


def assistant(**changes: Any) -> OfflineAssistant:
    return OfflineAssistant(parse_definition(definition_data() | changes))


def bot(text: str) -> TurnMessage:
    return said(text, author="bot")


def agent(text: str) -> TurnMessage:
    return said(text, author="agent")


# A conversation already greeted, so a turn is not the first one.
GREETED = (said("hola"), bot(GREETING))
REQUESTED = ToolCall(HAND_OFF, {"reason": "requested"})
NOT_UNDERSTOOD = ToolCall(HAND_OFF, {"reason": "not_understood"})


async def answer(*texts: str | TurnMessage, history: tuple[TurnMessage, ...] = GREETED) -> Any:
    return await assistant().respond(a_turn(*texts, history=history))


class DemoOfflineAssistantTests(AssistantContract):
    @pytest.fixture
    def assistant(self) -> OfflineAssistant:
        return OfflineAssistant(load_definition(DEMO))


# --- matching ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["¿CUÁNTO CUESTA?", "cuanto cuesta!!", "Y... ¿cuánto   cuesta, porfa?", "Cuánto\ncuesta"],
)
async def test_a_keyword_matches_whatever_the_case_accents_spacing_and_punctuation(
    text: str,
) -> None:
    assert (await answer(text)).messages == (PRICES, WHEN)


@pytest.mark.parametrize("text", ["planeta", "planes", "plantación", "explanada"])
async def test_a_keyword_without_a_star_matches_a_whole_word_only(text: str) -> None:
    assert (await answer(text)).messages == (FALLBACK,)


@pytest.mark.parametrize(
    ("text", "reply"),
    [("¿Precios?", PRICES), ("precio", PRICES), ("PRECIOSOS", PRICES), ("los diseños", TEMPLATES)],
)
async def test_a_star_lets_a_word_end_as_it_likes(text: str, reply: str) -> None:
    assert (await answer(text)).messages[0] == reply


async def test_a_star_only_reaches_forward_from_the_start_of_a_word() -> None:
    assert (await answer("sobrepago")).messages == (FALLBACK,)


async def test_a_phrase_matches_its_words_together_and_in_order() -> None:
    assert (await answer("cuesta cuánto")).messages == (FALLBACK,)
    assert (await answer("cuánto me cuesta")).messages == (FALLBACK,)
    assert (await answer("hablar con una persona")).tool_calls == (REQUESTED,)


# --- one reply for the whole turn -------------------------------------------------------


async def test_several_quick_messages_get_one_reply_covering_each_topic_once_in_order() -> None:
    reply = await answer("¿precios?", "y cómo es el pago", "perdón, ¿cuánto cuesta el plan?")

    assert reply == AssistantReply((PRICES, PAYMENT, WHEN))


async def test_topics_in_one_message_are_answered_in_the_order_they_were_raised() -> None:
    reply = await answer("¿Aceptan tarjeta? ¿Y qué plantillas tienen? ¿Precios?")

    assert reply.messages[:3] == (PAYMENT, TEMPLATES, PRICES)


async def test_the_first_turn_is_greeted_before_anything_is_answered() -> None:
    reply = await answer("Buenos días, ¿precios?", history=())

    assert reply.messages == (GREETING, PRICES, WHEN)


async def test_a_first_turn_that_asks_for_nothing_known_is_greeted_then_not_understood() -> None:
    reply = await answer("¿venden globos?", history=())

    assert reply.messages == (GREETING, FALLBACK)


async def test_a_greeting_later_on_is_answered_only_when_nothing_else_was_asked() -> None:
    assert (await answer("hola")).messages == (GREETING,)
    assert (await answer("hola", "¿y los precios?")).messages == (PRICES, WHEN)


async def test_a_turn_without_messages_gets_no_reply() -> None:
    assert await answer() == AssistantReply()


async def test_text_with_nothing_to_read_is_neither_answered_nor_a_fallback() -> None:
    assert await answer("👍") == AssistantReply()
    assert (await answer("👍", history=())).messages == (GREETING,)


# --- messages without text --------------------------------------------------------------


@pytest.mark.parametrize("kind", ["audio", "image", "document", "location", "unsupported"])
async def test_a_message_without_text_gets_the_media_reply(kind: str) -> None:
    assert await answer(media(kind)) == AssistantReply((MEDIA,))


async def test_the_media_reply_is_said_once_where_the_first_media_came() -> None:
    reply = await answer("¿precios?", media("image"), "¿y el pago?", media("audio"))

    assert reply.messages == (PRICES, MEDIA, PAYMENT, WHEN)


async def test_a_blank_caption_is_no_text() -> None:
    reply = await answer(TurnMessage(author="contact", type="image", text="  "))

    assert reply.messages == (MEDIA,)


# --- handing off ------------------------------------------------------------------------


async def test_asking_for_a_person_ends_the_reply_with_the_hand_off_and_its_tool_call() -> None:
    reply = await answer("quiero hablar con un asesor", "¿y los precios?")

    assert reply == AssistantReply((PRICES, TO_A_PERSON), (REQUESTED,), hand_off=True)


async def test_after_the_fallbacks_allowed_in_a_row_the_conversation_is_handed_off() -> None:
    missed_once = (*GREETED, said("¿venden globos?"), bot(FALLBACK))

    assert await answer("¿y piñatas?", history=GREETED) == AssistantReply((FALLBACK,))
    assert await answer("¿y piñatas?", history=missed_once) == AssistantReply(
        (GIVING_UP,), (NOT_UNDERSTOOD,), hand_off=True
    )


@pytest.mark.parametrize(
    "between",
    [
        (said("¿precios?"), bot(PRICES)),
        (said("asesor"), bot(TO_A_PERSON), agent("Hola, soy Luis.")),
        (agent("Hola, soy Luis."),),
        (said("¿globos?"), bot(GIVING_UP)),  # the second miss in a row: it was handed off
    ],
)
async def test_an_understood_or_handed_off_turn_ends_the_run_of_fallbacks(
    between: tuple[TurnMessage, ...],
) -> None:
    history = (*GREETED, said("¿venden globos?"), bot(FALLBACK), *between)

    assert await answer("¿y piñatas?", history=history) == AssistantReply((FALLBACK,))


async def test_a_message_without_text_neither_adds_to_nor_ends_a_run_of_fallbacks() -> None:
    history = (*GREETED, said("¿globos?"), bot(FALLBACK), media("audio"), bot(MEDIA))

    reply = await answer("¿y piñatas?", history=history)

    assert reply.tool_calls == (NOT_UNDERSTOOD,)


async def test_without_after_fallbacks_the_assistant_never_gives_up() -> None:
    data = definition_data()
    del data["hand_off"]["after_fallbacks"]
    history = GREETED + (said("¿globos?"), bot(FALLBACK)) * 5

    reply = await OfflineAssistant(parse_definition(data)).respond(a_turn("¿y?", history=history))

    assert reply == AssistantReply((FALLBACK,))


async def test_without_its_own_reply_giving_up_says_the_hand_off_reply() -> None:
    data = definition_data()
    del data["hand_off"]["not_understood_reply"]
    data["hand_off"]["after_fallbacks"] = 1

    reply = await OfflineAssistant(parse_definition(data)).respond(a_turn("¿globos?"))

    assert reply == AssistantReply((GREETING, TO_A_PERSON), (NOT_UNDERSTOOD,), hand_off=True)


# --- follow-up questions ----------------------------------------------------------------


async def test_follow_ups_come_after_the_answers_up_to_the_limit() -> None:
    turn = a_turn("¿plantillas y precios?", history=GREETED)

    assert (await assistant().respond(turn)).messages == (TEMPLATES, PRICES, STYLE)
    assert (await assistant(follow_up_limit=2).respond(turn)).messages == (
        TEMPLATES,
        PRICES,
        STYLE,
        WHEN,
    )
    assert (await assistant(follow_up_limit=0).respond(turn)).messages == (TEMPLATES, PRICES)


async def test_a_follow_up_already_asked_is_not_asked_again() -> None:
    history = (*GREETED, said("¿plantillas?"), bot(TEMPLATES), bot(STYLE))

    reply = await answer("¿plantillas y precios?", history=history)

    assert reply.messages == (TEMPLATES, PRICES, WHEN)


# --- the definition ---------------------------------------------------------------------

Spoil = Callable[[dict[str, Any]], object]


@pytest.mark.parametrize(
    ("spoil", "path"),
    [
        (lambda d: d.pop("fallback"), "fallback"),
        (lambda d: d.update(fallback="   "), "fallback"),
        (lambda d: d.update(language=7), "language"),
        (lambda d: d.update(greeting=None), "greeting"),
        (lambda d: d.update(greeting="hola"), "greeting"),
        (lambda d: d["greeting"].pop("keywords"), "greeting.keywords"),
        (lambda d: d["greeting"].update(keywords=[]), "greeting.keywords"),
        (lambda d: d["greeting"].update(keywords="hola"), "greeting.keywords"),
        (lambda d: d["hand_off"].update(after_fallbacks=0), "hand_off.after_fallbacks"),
        (lambda d: d["hand_off"].update(after_fallbacks=True), "hand_off.after_fallbacks"),
        (lambda d: d["hand_off"].update(after_fallbacks=None), "hand_off.after_fallbacks"),
        (lambda d: d["hand_off"].update(reply="x" * 4097), "hand_off.reply"),
        (lambda d: d.update(follow_up_limit=-1), "follow_up_limit"),
        (lambda d: d.update(answers={}), "answers"),
        (lambda d: d["answers"].append("precios"), "answers[3]"),
        (lambda d: d["answers"][1].update(id="prices"), "answers[1].id"),
        (lambda d: d["answers"][1].update(keyword=["pago"]), "answers[1].keyword"),
        (lambda d: d["answers"][1]["keywords"].append("¿?"), "answers[1].keywords[2]"),
        (lambda d: d["answers"][1]["keywords"].append("pa*go"), "answers[1].keywords[2]"),
        (lambda d: d["answers"][1]["keywords"].append("*"), "answers[1].keywords[2]"),
        (lambda d: d["answers"][1]["keywords"].append(3), "answers[1].keywords[2]"),
        (lambda d: d["answers"][2].update(follow_up="¿\x07?"), "answers[2].follow_up"),
        (lambda d: d["answers"][2].pop("reply"), "answers[2].reply"),
        (lambda d: d["answers"][1].update(tool="Catalog prices"), "answers[1].tool"),
        (lambda d: d["answers"][1].update(tool="a", arguments=[1]), "answers[1].arguments"),
        (lambda d: d["answers"][1].update(tool_reply="Hoy: {plans}"), "answers[1].tool_reply"),
        (lambda d: d["hand_off"].update(tool=7), "hand_off.tool"),
        (lambda d: d["hand_off"].update(tool="a", tool_reply="Listo."), "hand_off.tool_reply"),
    ],
)
def test_a_definition_at_fault_is_refused_naming_the_path(spoil: Spoil, path: str) -> None:
    data = definition_data()
    spoil(data)

    with pytest.raises(RuleViolated) as refused:
        parse_definition(data)

    assert path in refused.value.fields
    assert path in refused.value.detail


def test_every_fault_of_a_definition_is_named_at_once() -> None:
    data = definition_data()
    data.pop("media_reply")
    data["answers"][0]["reply"] = ""
    data["hand_off"]["colour"] = "blue"

    with pytest.raises(RuleViolated) as refused:
        parse_definition(data)

    assert set(refused.value.fields) == {"media_reply", "answers[0].reply", "hand_off.colour"}


@pytest.mark.parametrize("text", ["{not json", "[]", '"hola"', "null", "[" * 100_000])
def test_text_that_is_not_a_json_object_is_refused(text: str) -> None:
    with pytest.raises(RuleViolated, match="assistant definition"):
        load_definition(text)


def test_a_file_that_is_not_there_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(RuleViolated, match=r"missing\.json"):
        load_definition(tmp_path / "missing.json")


def test_a_file_at_fault_is_named_with_the_path_inside_it(tmp_path: Path) -> None:
    data = definition_data()
    data["answers"][0]["keywords"] = []
    source = tmp_path / "shop.json"
    source.write_text(json.dumps(data))

    with pytest.raises(RuleViolated, match=r"shop\.json.*answers\[0\]\.keywords"):
        load_definition(source)


def test_a_definition_reads_the_same_from_a_file_bytes_or_text(tmp_path: Path) -> None:
    text = json.dumps(definition_data(), ensure_ascii=False)
    source = tmp_path / "shop.json"
    source.write_text(text, encoding="utf-8")

    from_file = load_definition(source)

    assert from_file == load_definition(text.encode()) == load_definition(text)
    assert from_file.hand_off.after_fallbacks == 2
    assert from_file.follow_up_limit == 1
    assert [a.id for a in from_file.answers] == ["prices", "payment", "templates"]


# --- the demo -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo() -> AssistantDefinition:
    return load_definition(DEMO)


def reply_of(definition: AssistantDefinition, answer_id: str) -> str:
    return next(a.reply for a in definition.answers if a.id == answer_id)


async def test_the_demo_answers_hola_with_its_greeting(demo: AssistantDefinition) -> None:
    reply = await OfflineAssistant(demo).respond(a_turn("hola"))

    assert reply == AssistantReply((demo.greeting.reply,))


@pytest.mark.parametrize(
    ("text", "answer_id", "mentions"),
    [
        ("cuánto cuesta", "planes_y_precios", "S/"),
        ("¿Qué planes tienen?", "planes_y_precios", "S/"),
        ("cómo pago", "pagos", "Izipay"),
        ("¿Puedo pagar con tarjeta?", "pagos", "Izipay"),
        ("¿Qué plantillas tienen?", "plantillas", "Olivo"),
        ("¿Cuánto demora la entrega?", "entrega", "inmediato"),
        ("¿Cómo confirman mis invitados?", "confirmacion_de_asistencia", "RSVP"),
        ("¿Cómo funciona?", "como_funciona", "plantilla"),
        ("¿Tienen algún cupón de descuento?", "cupones", "BIENVENIDA"),
        ("¿Dan factura?", "comprobantes", "RUC"),
        ("muchas gracias", "gracias", "gusto"),
    ],
)
async def test_the_demo_answers_typical_questions(
    demo: AssistantDefinition, text: str, answer_id: str, mentions: str
) -> None:
    reply = await OfflineAssistant(demo).respond(a_turn(text, history=GREETED))

    assert reply.messages[0] == reply_of(demo, answer_id)
    assert mentions in reply.messages[0]
    assert reply.tool_calls == ()


async def test_the_demo_hands_off_to_a_person_when_asked(demo: AssistantDefinition) -> None:
    reply = await OfflineAssistant(demo).respond(
        a_turn("quiero hablar con una persona", history=GREETED)
    )

    assert reply == AssistantReply((demo.hand_off.reply,), (REQUESTED,), hand_off=True)


async def test_each_demo_keyword_reaches_its_own_answer_without_a_hand_off(
    demo: AssistantDefinition,
) -> None:
    demo_assistant = OfflineAssistant(demo)
    for item in demo.answers:
        for keyword in item.keywords.phrases:
            reply = await demo_assistant.respond(a_turn(keyword.replace("*", ""), history=GREETED))
            assert item.reply in reply.messages, keyword
            assert reply.tool_calls == (), keyword
