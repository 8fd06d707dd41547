"""Replies go out through a job: a refusal is recorded, an outage is retried, statuses move on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from talia_core.conversations.contacts import Contact
from talia_core.conversations.conversation import Conversation
from talia_core.conversations.errors import OutsideServiceWindow
from talia_core.conversations.events import Sender, StatusUpdate, ThreadUpdate
from talia_core.conversations.jobs import DELIVER_JOB
from talia_core.conversations.messages import MAX_TEXT, Template
from talia_core.conversations.outgoing import sendable_parts
from talia_core.conversations.ports import Outbound
from talia_core.conversations.vocabulary import (
    Channel,
    ChannelIdentity,
    ConversationStatus,
    DeliveryStatus,
    IdentityKind,
    MessageType,
)
from talia_core.shared.errors import NotFound, RuleViolated
from talia_core.shared.jobs import JobStatus
from talia_core.shared.pagination import PageRequest
from tests.unit.conversations.conftest import World, chatwoot, webchat, whatsapp

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


async def _conversation(world: World) -> str:
    stored = await world.pipeline.ingest(whatsapp("hola", at=T0))
    assert stored is not None
    return stored.conversation_id


async def test_a_human_reply_takes_the_conversation_and_goes_out(world: World) -> None:
    conversation_id = await _conversation(world)

    reply = await world.desk.send_human_reply(conversation_id, agent_id="agent-7", text="Hola")
    await world.run_jobs()

    conversation = await world.desk.conversation(conversation_id)
    assert conversation.status is ConversationStatus.HUMAN
    assert conversation.assignee_id == "agent-7"
    assert conversation.unread_count == 0
    assert [o.text for o in world.senders[Channel.WHATSAPP].sent] == ["Hola"]
    assert world.assistant.turns == []  # the bot's pending turn found a human there
    page = await world.desk.messages(conversation_id, PageRequest())
    assert {m.id: m.status for m in page.items}[reply.id] is DeliveryStatus.SENT


async def test_free_text_more_than_a_day_after_the_customer_wrote_is_refused(
    world: World,
) -> None:
    conversation_id = await _conversation(world)
    world.clock.current = T0 + timedelta(hours=24, seconds=1)

    with pytest.raises(OutsideServiceWindow):
        await world.desk.send_human_reply(conversation_id, agent_id="a", text="¿Sigue ahí?")

    template = Template("seguimiento", "es", ("Ana",))
    sent = await world.desk.send_human_reply(conversation_id, agent_id="a", template=template)
    await world.run_jobs()
    assert sent.template == template
    assert world.senders[Channel.WHATSAPP].sent[-1].template == template


async def test_a_written_reply_to_a_phone_calls_conversation_is_refused_and_nothing_is_queued(
    world: World,
) -> None:
    caller = Sender((ChannelIdentity(IdentityKind.PHONE, "+51987654321"),))
    async with world.uow() as uow:
        contact = Contact.first_seen(caller, T0)
        call = Conversation.start(contact.id, Channel.VOICE, "CA0001", T0)
        await uow.contacts.add(contact)
        await uow.conversations.add(call)
        await uow.commit()

    with pytest.raises(RuleViolated):
        await world.desk.send_human_reply(call.id, agent_id="a", text="Hola")

    assert (await world.desk.messages(call.id, PageRequest())).items == []
    assert (await world.runner.list(PageRequest())).items == []


async def test_templates_are_refused_on_channels_without_them(world: World) -> None:
    stored = await world.pipeline.ingest(chatwoot("hola"))
    assert stored is not None

    with pytest.raises(RuleViolated):
        await world.desk.send_human_reply(
            stored.conversation_id, agent_id="a", template=Template("x", "es")
        )


async def test_a_provider_refusal_marks_the_reply_failed_with_its_code(world: World) -> None:
    conversation_id = await _conversation(world)
    world.senders[Channel.WHATSAPP].refuse_next("131026", "Message undeliverable")

    await world.run_jobs()

    page = await world.desk.messages(conversation_id, PageRequest())
    reply = page.items[0]
    assert reply.status is DeliveryStatus.FAILED
    assert (reply.error_code, reply.error_title) == ("131026", "Message undeliverable")
    counts = await world.runner.counts()
    # The turn, the delivery and the relay of the message received.
    assert (counts[JobStatus.DONE], counts[JobStatus.DEAD]) == (3, 0)


async def test_a_provider_outage_is_retried_until_the_reply_goes_out(world: World) -> None:
    conversation_id = await _conversation(world)
    world.senders[Channel.WHATSAPP].fail_next(2)

    await world.run_jobs()

    page = await world.desk.messages(conversation_id, PageRequest())
    assert page.items[0].status is DeliveryStatus.SENT
    assert len(world.senders[Channel.WHATSAPP].sent) == 1


async def test_a_provider_down_for_good_leaves_a_dead_job_an_admin_can_retry(world: World) -> None:
    conversation_id = await _conversation(world)
    world.senders[Channel.WHATSAPP].fail_next(3)
    await world.run_jobs()
    [dead] = (await world.runner.list(PageRequest(), status=JobStatus.DEAD)).items
    assert dead.kind == "conversations.deliver"
    assert dead.attempts == 3
    assert dead.last_error is not None

    await world.runner.retry(dead.id)
    await world.run_jobs()

    page = await world.desk.messages(conversation_id, PageRequest())
    assert page.items[0].status is DeliveryStatus.SENT


async def _sent_reply(world: World) -> str:
    await _conversation(world)
    await world.run_jobs()
    [sent] = world.senders[Channel.WHATSAPP].sent
    return world.senders[Channel.WHATSAPP].ids[sent.message_id]


def _status(external_id: str, status: DeliveryStatus, second: int) -> StatusUpdate:
    return StatusUpdate(Channel.WHATSAPP, external_id, status, T0 + timedelta(seconds=second))


async def test_statuses_move_the_reply_forward(world: World) -> None:
    external_id = await _sent_reply(world)

    await world.pipeline.record_status(_status(external_id, DeliveryStatus.DELIVERED, 5))
    message = await world.pipeline.record_status(_status(external_id, DeliveryStatus.READ, 9))

    assert message is not None
    assert message.status is DeliveryStatus.READ
    assert message.status_at == T0 + timedelta(seconds=9)


async def test_a_status_that_arrives_late_never_moves_it_back(world: World) -> None:
    external_id = await _sent_reply(world)

    await world.pipeline.record_status(_status(external_id, DeliveryStatus.READ, 9))
    message = await world.pipeline.record_status(_status(external_id, DeliveryStatus.DELIVERED, 5))

    assert message is not None
    assert message.status is DeliveryStatus.READ


async def test_a_failure_is_recorded_with_the_providers_code_and_title(world: World) -> None:
    external_id = await _sent_reply(world)
    failed = StatusUpdate(
        Channel.WHATSAPP, external_id, DeliveryStatus.FAILED, T0, "131047", "Re-engagement"
    )

    message = await world.pipeline.record_status(failed)

    assert message is not None
    assert (message.status, message.error_code) == (DeliveryStatus.FAILED, "131047")


async def test_a_status_for_a_message_not_yet_known_is_retried_then_dropped_when_old(
    world: World,
) -> None:
    fresh = StatusUpdate(Channel.WHATSAPP, "wamid.unknown", DeliveryStatus.SENT, world.clock.now())
    with pytest.raises(NotFound):
        await world.pipeline.record_status(fresh)

    world.clock.advance(timedelta(hours=1))
    assert await world.pipeline.record_status(fresh) is None


async def test_chatwoot_opening_or_resolving_its_conversation_moves_ours(world: World) -> None:
    stored = await world.pipeline.ingest(chatwoot("hola", thread="314"))
    assert stored is not None

    await world.pipeline.apply_thread_update(
        ThreadUpdate(Channel.CHATWOOT, "314", ConversationStatus.HUMAN, T0, assignee="5")
    )
    human = await world.desk.conversation(stored.conversation_id)
    await world.pipeline.apply_thread_update(
        ThreadUpdate(Channel.CHATWOOT, "314", ConversationStatus.CLOSED, T0)
    )

    assert (human.status, human.assignee_id) == (ConversationStatus.HUMAN, "5")
    closed = await world.desk.conversation(stored.conversation_id)
    assert closed.status is ConversationStatus.CLOSED


async def test_web_chat_messages_are_pushed_to_the_session_the_answer_drafted_first(
    world: World,
) -> None:
    async with world.feed.subscribe("session-1") as frames:
        await world.receive(webchat("hola", session="session-1"))
        await world.run_jobs()
        received = [await anext(frames) for _ in range(4)]

    shown = [
        (f["type"], f["message"]["author"], f["message"]["text"])
        if f["type"] == "message"
        else (f["type"], f["text"])
        for f in received
    ]
    assert shown == [
        ("message", "contact", "hola"),
        ("draft", "answering: "),
        ("draft", "hola"),
        ("message", "bot", "answering: hola"),
    ]


async def test_only_web_chat_answers_are_drafted(world: World) -> None:
    await world.receive(whatsapp("hola"), webchat("hola", session="session-1"))
    await world.run_jobs()

    assert sorted(world.assistant.drafted) == [False, True]


async def test_the_parts_of_a_long_reply_go_out_in_order_in_one_job_even_after_a_retry(
    world: World,
) -> None:
    question = " ".join(f"¿Incluye el plan {n} la invitación impresa?" for n in range(150))
    await world.receive(whatsapp(question, at=T0))
    world.senders[Channel.WHATSAPP].fail_next(1)

    await world.run_jobs()

    parts = sendable_parts(f"answering: {question}", MAX_TEXT)
    assert len(parts) >= 2
    assert [o.text for o in world.senders[Channel.WHATSAPP].sent] == parts
    async with world.uow(read_only=True) as uow:
        jobs = (await uow.jobs.find(PageRequest(limit=50), status=None)).items
    [deliveries] = [job for job in jobs if job.kind == DELIVER_JOB]
    assert (deliveries.status, deliveries.attempts) == (JobStatus.DONE, 2)


async def test_a_reply_the_provider_took_but_a_stopped_worker_never_recorded_is_not_sent_twice(
    world: World,
) -> None:
    conversation_id = await _conversation(world)
    reply = await world.desk.send_human_reply(conversation_id, agent_id="a", text="Hola")
    # The provider took it, then the worker stopped before recording the id it got.
    to = ChannelIdentity(IdentityKind.WA_ID, "51987654321")
    sent = Outbound(reply.id, Channel.WHATSAPP, to, MessageType.TEXT, text="Hola")
    await world.senders[Channel.WHATSAPP].send(sent)

    status = StatusUpdate(
        Channel.WHATSAPP, "fake-1", DeliveryStatus.DELIVERED, T0, message_id=reply.id
    )
    await world.pipeline.record_status(status)
    await world.run_jobs()

    assert [o.text for o in world.senders[Channel.WHATSAPP].sent] == ["Hola"]
    page = await world.desk.messages(conversation_id, PageRequest())
    stored = {m.id: m for m in page.items}[reply.id]
    assert (stored.external_id, stored.status) == ("fake-1", DeliveryStatus.DELIVERED)


async def test_a_status_naming_a_message_already_given_another_provider_id_changes_nothing(
    world: World,
) -> None:
    conversation_id = await _conversation(world)
    reply = await world.desk.send_human_reply(conversation_id, agent_id="a", text="Hola")
    await world.run_jobs()

    stray = StatusUpdate(
        Channel.WHATSAPP, "wamid.other", DeliveryStatus.READ, T0, message_id=reply.id
    )
    with pytest.raises(NotFound):
        await world.pipeline.record_status(stray)

    page = await world.desk.messages(conversation_id, PageRequest())
    stored = {m.id: m for m in page.items}[reply.id]
    assert (stored.external_id, stored.status) == ("fake-1", DeliveryStatus.SENT)
