"""The contract every ``Assistant`` passes: the offline one, and any model-backed one pointed
at a local server.

Subclass ``AssistantContract`` and provide the ``assistant`` fixture. The customer's texts
are this module's constants, so a scripted model server can be told how to answer them.
"""

from __future__ import annotations

import json

import pytest

from talia_core.conversations.ports import (
    HAND_OFF,
    Assistant,
    AssistantReply,
    AssistantTurn,
    ToolCall,
    TurnMessage,
)

GREETING = "Hola"
QUESTION = "¿Cuánto cuesta una invitación?"
HAND_OFF_REQUEST = "Quiero hablar con una persona, por favor"
WITHOUT_TEXT = ["audio", "image", "video", "document", "location", "unsupported"]


def said(text: str, *, author: str = "contact") -> TurnMessage:
    return TurnMessage(author=author, type="text", text=text)


def media(kind: str) -> TurnMessage:
    """A message with nothing to read: an audio, an image, a location ..."""
    return TurnMessage(author="contact", type=kind, text=None)


def a_turn(*unanswered: TurnMessage | str, history: tuple[TurnMessage, ...] = ()) -> AssistantTurn:
    return AssistantTurn(
        conversation_id="conversation-1",
        contact_id="contact-1",
        channel="webchat",
        contact_name="Ana",
        history=history,
        unanswered=tuple(said(m) if isinstance(m, str) else m for m in unanswered),
    )


def assert_well_formed(reply: AssistantReply) -> None:
    """Messages are non-blank strings; tool calls name a tool and carry plain JSON data."""
    assert isinstance(reply, AssistantReply)
    assert all(isinstance(m, str) and m.strip() for m in reply.messages), reply.messages
    for call in reply.tool_calls:
        assert isinstance(call, ToolCall)
        assert isinstance(call.name, str)
        assert call.name
        json.dumps(call.arguments)


def hands_off(reply: AssistantReply) -> bool:
    """The reply hands the conversation over, and says so with the tool it called."""
    called = any(call.name == HAND_OFF for call in reply.tool_calls)
    assert called == reply.hand_off
    return reply.hand_off


EARLIER = (
    said(GREETING),
    said("¡Hola! ¿En qué te ayudo?", author="bot"),
    said(QUESTION),
    said("Nuestros planes empiezan en S/ 49.", author="bot"),
)


class AssistantContract:
    async def test_a_greeting_on_the_first_turn_is_answered(self, assistant: Assistant) -> None:
        reply = await assistant.respond(a_turn(GREETING))

        assert_well_formed(reply)
        assert reply.messages
        assert not hands_off(reply)

    async def test_a_greeting_later_in_the_conversation_is_answered(
        self, assistant: Assistant
    ) -> None:
        reply = await assistant.respond(a_turn(GREETING, history=EARLIER))

        assert_well_formed(reply)
        assert reply.messages

    async def test_a_question_is_answered_without_handing_off(self, assistant: Assistant) -> None:
        reply = await assistant.respond(a_turn(QUESTION))

        assert_well_formed(reply)
        assert reply.messages
        assert not hands_off(reply)

    async def test_asking_for_a_person_hands_the_conversation_off(
        self, assistant: Assistant
    ) -> None:
        reply = await assistant.respond(a_turn(HAND_OFF_REQUEST, history=EARLIER))

        assert_well_formed(reply)
        assert hands_off(reply)

    @pytest.mark.parametrize("kind", WITHOUT_TEXT)
    async def test_a_message_without_text_gets_an_answer_not_an_error(
        self, assistant: Assistant, kind: str
    ) -> None:
        reply = await assistant.respond(a_turn(media(kind), history=EARLIER))

        assert_well_formed(reply)
        assert reply.messages or hands_off(reply)

    async def test_several_quick_messages_get_one_answer(self, assistant: Assistant) -> None:
        reply = await assistant.respond(a_turn(GREETING, media("image"), QUESTION))

        assert_well_formed(reply)
        assert reply.messages

    async def test_an_agents_message_in_the_history_is_taken_in_stride(
        self, assistant: Assistant
    ) -> None:
        history = (*EARLIER, said("Hola Ana, soy Luis del equipo.", author="agent"))

        reply = await assistant.respond(a_turn(QUESTION, history=history))

        assert_well_formed(reply)
        assert reply.messages
