"""The assistant answers through the conversation's channel, once per burst, never over a human."""

from __future__ import annotations

from datetime import timedelta

from talia_core.conversations.model import Channel, ConversationStatus, DeliveryStatus
from talia_core.shared.pagination import PageRequest
from tests.unit.conversations.conftest import DEBOUNCE, Desk, chatwoot, whatsapp


async def test_the_assistant_answers_and_the_reply_goes_out_through_the_same_channel(
    desk: Desk,
) -> None:
    stored = await desk.service.ingest(whatsapp("hola", wa_id="51944444444"))
    assert stored is not None

    await desk.run_jobs()

    [sent] = desk.senders[Channel.WHATSAPP].sent
    assert sent.to.value == "51944444444"
    assert sent.text == "answering: hola"
    page = await desk.service.messages(stored.conversation_id, PageRequest())
    reply = page.items[0]
    assert reply.author.value == "bot"
    assert reply.status is DeliveryStatus.SENT
    assert reply.external_id is not None


async def test_quick_messages_within_the_window_get_one_turn_that_sees_all_of_them(
    desk: Desk,
) -> None:
    await desk.receive(whatsapp("hola"))
    desk.clock.advance(DEBOUNCE / 2)
    await desk.receive(whatsapp("quiero una invitación"))
    desk.clock.advance(DEBOUNCE / 2)
    await desk.receive(whatsapp("¿cuánto cuesta?"))

    await desk.run_jobs()

    assert len(desk.assistant.turns) == 1
    assert [m.text for m in desk.assistant.turns[0].unanswered] == [
        "hola",
        "quiero una invitación",
        "¿cuánto cuesta?",
    ]
    assert len(desk.senders[Channel.WHATSAPP].sent) == 1


async def test_the_turn_waits_for_the_window_to_pass_after_the_last_message(desk: Desk) -> None:
    await desk.receive(whatsapp("hola"))

    ran = await desk.run_jobs(after=DEBOUNCE - timedelta(milliseconds=1))

    assert ran == 0
    assert desk.assistant.turns == []


async def test_a_message_after_the_answer_gets_a_turn_of_its_own(desk: Desk) -> None:
    await desk.receive(whatsapp("hola"))
    await desk.run_jobs()
    await desk.receive(whatsapp("gracias"))
    await desk.run_jobs()

    assert [[m.text for m in t.unanswered] for t in desk.assistant.turns] == [
        ["hola"],
        ["gracias"],
    ]
    assert desk.assistant.turns[1].history[-1].author == "bot"


async def test_a_conversation_under_a_human_gets_no_bot_reply(desk: Desk) -> None:
    stored = await desk.service.ingest(whatsapp("hola"))
    assert stored is not None
    await desk.service.hand_off(stored.conversation_id, assignee_id="agent-1")

    await desk.receive(whatsapp("¿hay alguien?"))
    await desk.run_jobs()

    assert desk.assistant.turns == []
    assert desk.senders[Channel.WHATSAPP].sent == []


async def test_a_hand_off_while_the_assistant_thinks_drops_its_answer(desk: Desk) -> None:
    stored = await desk.service.ingest(whatsapp("hola"))
    assert stored is not None
    desk.clock.advance(DEBOUNCE)
    claimed = await desk.runner.claim(10)
    await desk.service.hand_off(stored.conversation_id, assignee_id="agent-1")

    for job in claimed:
        await desk.runner.execute(job)

    page = await desk.service.messages(stored.conversation_id, PageRequest())
    assert [m.author.value for m in page.items] == ["contact"]


async def test_asking_for_a_person_hands_the_conversation_over(desk: Desk) -> None:
    stored = await desk.service.ingest(chatwoot("quiero hablar con un humano", thread="42"))
    assert stored is not None

    await desk.run_jobs()

    conversation = await desk.service.conversation(stored.conversation_id)
    assert conversation.status is ConversationStatus.HUMAN
    assert desk.senders[Channel.CHATWOOT].hand_offs == ["42"]


async def test_released_conversations_are_answered_by_the_bot_again(desk: Desk) -> None:
    stored = await desk.service.ingest(whatsapp("hola"))
    assert stored is not None
    await desk.service.hand_off(stored.conversation_id, assignee_id=None)
    await desk.service.release(stored.conversation_id)

    await desk.receive(whatsapp("¿siguen ahí?"))
    await desk.run_jobs()

    assert [m.text for m in desk.assistant.turns[0].unanswered] == ["hola", "¿siguen ahí?"]
