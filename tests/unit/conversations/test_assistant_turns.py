"""The assistant answers through the conversation's channel, once per burst, never over a human."""

from __future__ import annotations

from datetime import timedelta

from talia_core.conversations.ports import ConversationFilter
from talia_core.conversations.vocabulary import Channel, ConversationStatus, DeliveryStatus
from talia_core.shared.pagination import PageRequest
from tests.unit.conversations.conftest import DEBOUNCE, World, chatwoot, whatsapp


async def test_the_assistant_answers_and_the_reply_goes_out_through_the_same_channel(
    world: World,
) -> None:
    stored = await world.pipeline.ingest(whatsapp("hola", wa_id="51944444444"))
    assert stored is not None

    await world.run_jobs()

    [sent] = world.senders[Channel.WHATSAPP].sent
    assert sent.to.value == "51944444444"
    assert sent.text == "answering: hola"
    page = await world.desk.messages(stored.conversation_id, PageRequest())
    reply = page.items[0]
    assert reply.author.value == "bot"
    assert reply.status is DeliveryStatus.SENT
    assert reply.external_id is not None


async def test_quick_messages_within_the_window_get_one_turn_that_sees_all_of_them(
    world: World,
) -> None:
    await world.receive(whatsapp("hola"))
    world.clock.advance(DEBOUNCE / 2)
    await world.receive(whatsapp("quiero una invitación"))
    world.clock.advance(DEBOUNCE / 2)
    await world.receive(whatsapp("¿cuánto cuesta?"))

    await world.run_jobs()

    assert len(world.assistant.turns) == 1
    assert [m.text for m in world.assistant.turns[0].unanswered] == [
        "hola",
        "quiero una invitación",
        "¿cuánto cuesta?",
    ]
    assert len(world.senders[Channel.WHATSAPP].sent) == 1


async def test_the_turn_waits_for_the_window_to_pass_after_the_last_message(world: World) -> None:
    await world.receive(whatsapp("hola"))

    ran = await world.run_jobs(after=DEBOUNCE - timedelta(milliseconds=1))

    assert ran == 1  # the relay of the message received, not the turn
    assert world.assistant.turns == []


async def test_a_message_after_the_answer_gets_a_turn_of_its_own(world: World) -> None:
    await world.receive(whatsapp("hola"))
    await world.run_jobs()
    await world.receive(whatsapp("gracias"))
    await world.run_jobs()

    assert [[m.text for m in t.unanswered] for t in world.assistant.turns] == [
        ["hola"],
        ["gracias"],
    ]
    assert world.assistant.turns[1].history[-1].author == "bot"


async def test_a_conversation_under_a_human_gets_no_bot_reply(world: World) -> None:
    stored = await world.pipeline.ingest(whatsapp("hola"))
    assert stored is not None
    await world.desk.hand_off(stored.conversation_id, assignee_id="agent-1")

    await world.receive(whatsapp("¿hay alguien?"))
    await world.run_jobs()

    assert world.assistant.turns == []
    assert world.senders[Channel.WHATSAPP].sent == []


async def test_a_hand_off_while_the_assistant_thinks_drops_its_answer(world: World) -> None:
    stored = await world.pipeline.ingest(whatsapp("hola"))
    assert stored is not None
    world.clock.advance(DEBOUNCE)
    claimed = await world.runner.claim(10)
    await world.desk.hand_off(stored.conversation_id, assignee_id="agent-1")

    for job in claimed:
        await world.runner.execute(job)

    page = await world.desk.messages(stored.conversation_id, PageRequest())
    assert [m.author.value for m in page.items] == ["contact"]


async def test_asking_for_a_person_hands_the_conversation_over(world: World) -> None:
    stored = await world.pipeline.ingest(chatwoot("quiero hablar con un humano", thread="42"))
    assert stored is not None

    await world.run_jobs()

    conversation = await world.desk.conversation(stored.conversation_id)
    assert conversation.status is ConversationStatus.HUMAN
    assert world.senders[Channel.CHATWOOT].hand_offs == ["42"]


async def test_released_conversations_are_answered_by_the_bot_again(world: World) -> None:
    stored = await world.pipeline.ingest(whatsapp("hola"))
    assert stored is not None
    await world.desk.hand_off(stored.conversation_id, assignee_id=None)
    await world.desk.release(stored.conversation_id)

    await world.receive(whatsapp("¿siguen ahí?"))
    await world.run_jobs()

    assert [m.text for m in world.assistant.turns[0].unanswered] == ["hola", "¿siguen ahí?"]


async def test_after_a_burst_each_reply_goes_out_before_later_customers_are_taken_in(
    world: World,
) -> None:
    for number in ("51911111111", "51922222222", "51933333333"):
        await world.inbox.receive([whatsapp("hola", wa_id=number)])
        world.clock.advance(timedelta(seconds=10))
    world.clock.advance(timedelta(minutes=5))  # the worker gets to the burst late

    progress = []
    while await world.runner.run_due(1):  # one job at a time, oldest first, as a worker
        stored = await world.desk.list_conversations(PageRequest(), ConversationFilter())
        answered = [m.to.value for m in world.senders[Channel.WHATSAPP].sent]
        progress.append((stored.total, answered))

    first_answer = next(step for step in progress if step[1])
    assert first_answer == (1, ["51911111111"])  # answered before the others were taken in
    assert progress[-1] == (3, ["51911111111", "51922222222", "51933333333"])
