"""A reply's delivery status ends at the furthest the provider reported, whatever order
the reports arrive in: sent, then failed, then delivered, then read. A reply that reached
the customer has not failed."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from talia_core.conversations.conversation import Conversation
from talia_core.conversations.events import StatusUpdate
from talia_core.conversations.messages import Message
from talia_core.conversations.vocabulary import Author, Channel, DeliveryStatus
from tests.unit.conversations.conftest import World, whatsapp

T0 = datetime(2026, 1, 1, tzinfo=UTC)
FURTHEST = [
    DeliveryStatus.SENT,
    DeliveryStatus.FAILED,
    DeliveryStatus.DELIVERED,
    DeliveryStatus.READ,
]
REPORTED = st.lists(st.sampled_from(FURTHEST), unique=True)


def _reply() -> Message:
    conversation = Conversation.start("contact", Channel.WHATSAPP, None, T0)
    message = Message.reply(conversation, author=Author.BOT, at=T0, text="hola")
    message.accepted("wamid.1", T0)
    return message


def _report(status: DeliveryStatus, second: int) -> StatusUpdate:
    return StatusUpdate(
        Channel.WHATSAPP, "wamid.1", status, T0 + timedelta(seconds=second), "131047", "Expired"
    )


@given(REPORTED.flatmap(lambda seen: st.tuples(st.just(seen), st.permutations(seen))))
def test_any_order_of_the_reports_ends_at_the_furthest_one(
    reports: tuple[list[DeliveryStatus], list[DeliveryStatus]],
) -> None:
    seen, arrival = reports
    message = _reply()

    for second, status in enumerate(arrival, 1):
        message.record_status(_report(status, second))

    furthest = max([DeliveryStatus.SENT, *seen], key=FURTHEST.index)
    assert message.status is furthest
    failed = furthest is DeliveryStatus.FAILED
    assert (message.error_code is not None) == failed


def test_a_failure_reported_later_than_the_read_is_ignored() -> None:
    message = _reply()
    message.record_status(_report(DeliveryStatus.READ, 5))

    changed = message.record_status(_report(DeliveryStatus.FAILED, 9))

    assert not changed
    assert (message.status, message.error_code) == (DeliveryStatus.READ, None)


def test_a_failure_reported_after_the_delivery_is_ignored() -> None:
    message = _reply()
    message.record_status(_report(DeliveryStatus.DELIVERED, 5))

    assert not message.record_status(_report(DeliveryStatus.FAILED, 9))
    assert message.status is DeliveryStatus.DELIVERED


def test_a_failure_after_sending_applies_with_the_providers_code_and_title() -> None:
    message = _reply()

    assert message.record_status(_report(DeliveryStatus.FAILED, 9))
    assert (message.status, message.error_code, message.error_title) == (
        DeliveryStatus.FAILED,
        "131047",
        "Expired",
    )


def test_a_read_reported_after_a_failure_wins_and_clears_it() -> None:
    message = _reply()
    message.record_status(_report(DeliveryStatus.FAILED, 5))

    assert message.record_status(_report(DeliveryStatus.READ, 4))
    assert (message.status, message.error_code, message.error_title) == (
        DeliveryStatus.READ,
        None,
        None,
    )


def test_an_inbound_message_takes_no_delivery_status() -> None:
    conversation = Conversation.start("contact", Channel.WHATSAPP, None, T0)
    message = Message.inbound(conversation.id, whatsapp("hola"), T0)

    assert not message.record_status(_report(DeliveryStatus.READ, 1))
    assert message.status is DeliveryStatus.RECEIVED


async def test_the_worker_logs_a_late_failure_it_ignores(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    await world.receive(whatsapp("hola"))
    await world.run_jobs()
    [sent] = world.senders[Channel.WHATSAPP].sent
    external_id = world.senders[Channel.WHATSAPP].ids[sent.message_id]
    now = world.clock.now()
    await world.pipeline.record_status(
        StatusUpdate(Channel.WHATSAPP, external_id, DeliveryStatus.READ, now)
    )

    with caplog.at_level(logging.INFO, logger="talia.conversations"):
        message = await world.pipeline.record_status(
            StatusUpdate(
                Channel.WHATSAPP, external_id, DeliveryStatus.FAILED, now, "131026", "Undeliverable"
            )
        )

    assert message is not None
    assert message.status is DeliveryStatus.READ
    assert "failure 131026" in caplog.text
    assert "already read" in caplog.text
