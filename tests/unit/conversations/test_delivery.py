"""Replies go out through a job: a refusal is recorded, an outage is retried, statuses move on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from talia_core.conversations.errors import OutsideServiceWindow
from talia_core.conversations.model import (
    Channel,
    ConversationStatus,
    DeliveryStatus,
    StatusUpdate,
    Template,
    ThreadUpdate,
)
from talia_core.shared.errors import NotFound, RuleViolated
from talia_core.shared.jobs import JobStatus
from talia_core.shared.pagination import PageRequest
from tests.unit.conversations.conftest import Desk, chatwoot, webchat, whatsapp

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


async def _conversation(desk: Desk) -> str:
    stored = await desk.service.ingest(whatsapp("hola", at=T0))
    assert stored is not None
    return stored.conversation_id


async def test_a_human_reply_takes_the_conversation_and_goes_out(desk: Desk) -> None:
    conversation_id = await _conversation(desk)

    reply = await desk.service.send_human_reply(conversation_id, agent_id="agent-7", text="Hola")
    await desk.run_jobs()

    conversation = await desk.service.conversation(conversation_id)
    assert conversation.status is ConversationStatus.HUMAN
    assert conversation.assignee_id == "agent-7"
    assert conversation.unread_count == 0
    assert [o.text for o in desk.senders[Channel.WHATSAPP].sent] == ["Hola"]
    assert desk.assistant.turns == []  # the bot's pending turn found a human there
    page = await desk.service.messages(conversation_id, PageRequest())
    assert {m.id: m.status for m in page.items}[reply.id] is DeliveryStatus.SENT


async def test_free_text_more_than_a_day_after_the_customer_wrote_is_refused(
    desk: Desk,
) -> None:
    conversation_id = await _conversation(desk)
    desk.clock.current = T0 + timedelta(hours=24, seconds=1)

    with pytest.raises(OutsideServiceWindow):
        await desk.service.send_human_reply(conversation_id, agent_id="a", text="¿Sigue ahí?")

    template = Template("seguimiento", "es", ("Ana",))
    sent = await desk.service.send_human_reply(conversation_id, agent_id="a", template=template)
    await desk.run_jobs()
    assert sent.template == template
    assert desk.senders[Channel.WHATSAPP].sent[-1].template == template


async def test_templates_are_refused_on_channels_without_them(desk: Desk) -> None:
    stored = await desk.service.ingest(chatwoot("hola"))
    assert stored is not None

    with pytest.raises(RuleViolated):
        await desk.service.send_human_reply(
            stored.conversation_id, agent_id="a", template=Template("x", "es")
        )


async def test_a_provider_refusal_marks_the_reply_failed_with_its_code(desk: Desk) -> None:
    conversation_id = await _conversation(desk)
    desk.senders[Channel.WHATSAPP].refuse_next("131026", "Message undeliverable")

    await desk.run_jobs()

    page = await desk.service.messages(conversation_id, PageRequest())
    reply = page.items[0]
    assert reply.status is DeliveryStatus.FAILED
    assert (reply.error_code, reply.error_title) == ("131026", "Message undeliverable")
    counts = await desk.runner.counts()
    assert (counts[JobStatus.DONE], counts[JobStatus.DEAD]) == (2, 0)


async def test_a_provider_outage_is_retried_until_the_reply_goes_out(desk: Desk) -> None:
    conversation_id = await _conversation(desk)
    desk.senders[Channel.WHATSAPP].fail_next(2)

    await desk.run_jobs()

    page = await desk.service.messages(conversation_id, PageRequest())
    assert page.items[0].status is DeliveryStatus.SENT
    assert len(desk.senders[Channel.WHATSAPP].sent) == 1


async def test_a_provider_down_for_good_leaves_a_dead_job_an_admin_can_retry(desk: Desk) -> None:
    conversation_id = await _conversation(desk)
    desk.senders[Channel.WHATSAPP].fail_next(3)
    await desk.run_jobs()
    [dead] = (await desk.runner.list(PageRequest(), status=JobStatus.DEAD)).items
    assert dead.kind == "conversations.deliver"
    assert dead.attempts == 3
    assert dead.last_error is not None

    await desk.runner.retry(dead.id)
    await desk.run_jobs()

    page = await desk.service.messages(conversation_id, PageRequest())
    assert page.items[0].status is DeliveryStatus.SENT


async def _sent_reply(desk: Desk) -> str:
    await _conversation(desk)
    await desk.run_jobs()
    [sent] = desk.senders[Channel.WHATSAPP].sent
    return desk.senders[Channel.WHATSAPP].ids[sent.message_id]


def _status(external_id: str, status: DeliveryStatus, second: int) -> StatusUpdate:
    return StatusUpdate(Channel.WHATSAPP, external_id, status, T0 + timedelta(seconds=second))


async def test_statuses_move_the_reply_forward(desk: Desk) -> None:
    external_id = await _sent_reply(desk)

    await desk.service.record_status(_status(external_id, DeliveryStatus.DELIVERED, 5))
    message = await desk.service.record_status(_status(external_id, DeliveryStatus.READ, 9))

    assert message is not None
    assert message.status is DeliveryStatus.READ
    assert message.status_at == T0 + timedelta(seconds=9)


async def test_a_status_that_arrives_late_never_moves_it_back(desk: Desk) -> None:
    external_id = await _sent_reply(desk)

    await desk.service.record_status(_status(external_id, DeliveryStatus.READ, 9))
    message = await desk.service.record_status(_status(external_id, DeliveryStatus.DELIVERED, 5))

    assert message is not None
    assert message.status is DeliveryStatus.READ


async def test_a_failure_is_recorded_with_the_providers_code_and_title(desk: Desk) -> None:
    external_id = await _sent_reply(desk)
    failed = StatusUpdate(
        Channel.WHATSAPP, external_id, DeliveryStatus.FAILED, T0, "131047", "Re-engagement"
    )

    message = await desk.service.record_status(failed)

    assert message is not None
    assert (message.status, message.error_code) == (DeliveryStatus.FAILED, "131047")


async def test_a_status_for_a_message_not_yet_known_is_retried_then_dropped_when_old(
    desk: Desk,
) -> None:
    fresh = StatusUpdate(Channel.WHATSAPP, "wamid.unknown", DeliveryStatus.SENT, desk.clock.now())
    with pytest.raises(NotFound):
        await desk.service.record_status(fresh)

    desk.clock.advance(timedelta(hours=1))
    assert await desk.service.record_status(fresh) is None


async def test_chatwoot_opening_or_resolving_its_conversation_moves_ours(desk: Desk) -> None:
    stored = await desk.service.ingest(chatwoot("hola", thread="314"))
    assert stored is not None

    await desk.service.apply_thread_update(
        ThreadUpdate(Channel.CHATWOOT, "314", ConversationStatus.HUMAN, T0, assignee="5")
    )
    human = await desk.service.conversation(stored.conversation_id)
    await desk.service.apply_thread_update(
        ThreadUpdate(Channel.CHATWOOT, "314", ConversationStatus.CLOSED, T0)
    )

    assert (human.status, human.assignee_id) == (ConversationStatus.HUMAN, "5")
    closed = await desk.service.conversation(stored.conversation_id)
    assert closed.status is ConversationStatus.CLOSED


async def test_web_chat_messages_are_pushed_to_the_session_as_they_are_stored(
    desk: Desk,
) -> None:
    async with desk.feed.subscribe("session-1") as frames:
        await desk.receive(webchat("hola", session="session-1"))
        await desk.run_jobs()
        first = await anext(frames)
        second = await anext(frames)

    assert (first["message"]["author"], first["message"]["text"]) == ("contact", "hola")
    assert (second["message"]["author"], second["message"]["text"]) == ("bot", "answering: hola")
