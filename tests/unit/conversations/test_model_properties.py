"""Invariants of messages and conversations, over every order statuses can arrive in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from talia_core.conversations.conversation import Conversation
from talia_core.conversations.events import InboundMessage, StatusUpdate, event_from_data
from talia_core.conversations.messages import Message
from talia_core.conversations.vocabulary import Author, Channel, DeliveryStatus
from talia_core.shared.errors import Malformed
from tests.unit.conversations.conftest import whatsapp

T0 = datetime(2026, 1, 1, tzinfo=UTC)
STEPS = [DeliveryStatus.SENT, DeliveryStatus.DELIVERED, DeliveryStatus.READ]
RANK = {s: i for i, s in enumerate(STEPS)}
# How far a reply got: a failure comes before delivery (a delivered reply has not failed).
PROGRESS = [
    DeliveryStatus.SENT,
    DeliveryStatus.FAILED,
    DeliveryStatus.DELIVERED,
    DeliveryStatus.READ,
]


def _reply() -> Message:
    conversation = Conversation.start("contact", Channel.WHATSAPP, None, T0)
    message = Message.reply(conversation, author=Author.BOT, at=T0, text="hola")
    message.accepted("wamid.1", T0)
    return message


@given(st.permutations(STEPS), st.lists(st.sampled_from(STEPS), max_size=6))
def test_any_arrival_order_ends_at_the_furthest_status_seen(
    order: list[DeliveryStatus], repeats: list[DeliveryStatus]
) -> None:
    message = _reply()
    for status in [*order, *repeats]:
        message.record_status(
            StatusUpdate(Channel.WHATSAPP, "wamid.1", status, T0 + timedelta(seconds=RANK[status]))
        )

    assert message.status is DeliveryStatus.READ
    assert message.status_at == T0 + timedelta(seconds=RANK[DeliveryStatus.READ])


@given(st.lists(st.sampled_from([*STEPS, DeliveryStatus.FAILED]), min_size=1, max_size=8))
def test_status_never_moves_backwards(statuses: list[DeliveryStatus]) -> None:
    message = _reply()
    seen = [message.status]
    for n, status in enumerate(statuses):
        message.record_status(
            StatusUpdate(Channel.WHATSAPP, "wamid.1", status, T0 + timedelta(seconds=n))
        )
        seen.append(message.status)

    progress = [PROGRESS.index(s) for s in seen]
    assert progress == sorted(progress)


def test_a_failure_reported_after_a_later_read_is_ignored() -> None:
    message = _reply()
    message.record_status(StatusUpdate(Channel.WHATSAPP, "wamid.1", DeliveryStatus.READ, T0))

    changed = message.record_status(
        StatusUpdate(Channel.WHATSAPP, "wamid.1", DeliveryStatus.FAILED, T0 - timedelta(seconds=1))
    )

    assert not changed
    assert message.status is DeliveryStatus.READ


@given(
    st.text(max_size=50),
    st.sampled_from(["51987654321", None]),
    st.sampled_from(["PE.123", None]),
)
def test_inbound_events_survive_the_trip_through_the_inbox_unchanged(
    text: str, wa_id: str | None, bsuid: str | None
) -> None:
    if wa_id is None and bsuid is None:
        wa_id = "51900000000"
    event = whatsapp(text, wa_id=wa_id, bsuid=bsuid)

    assert event_from_data(event.to_data()) == event


def test_the_service_window_is_24_hours_from_the_customers_last_message() -> None:
    conversation = Conversation.start("c", Channel.WHATSAPP, None, T0)
    conversation.receive(T0)

    assert conversation.within_service_window(T0 + timedelta(hours=23, minutes=59))
    assert not conversation.within_service_window(T0 + timedelta(hours=24))
    webchat = Conversation.start("c", Channel.WEBCHAT, "s", T0)
    assert webchat.within_service_window(T0 + timedelta(days=30))


def test_a_message_without_provider_id_is_malformed() -> None:
    with pytest.raises(Malformed):
        InboundMessage(
            channel=Channel.WHATSAPP,
            external_id="",
            sender=whatsapp().sender,
            type=whatsapp().type,
            sent_at=T0,
        )
