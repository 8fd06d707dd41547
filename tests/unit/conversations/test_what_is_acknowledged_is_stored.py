"""What a channel delivers takes a form every database stores before it is acknowledged:
text loses only what cannot be stored, ids too long become their digest, an attachment
that cannot be kept leaves the message unsupported, and a message is never cut."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from talia_core.conversations.contacts import MAX_NAME, Contact
from talia_core.conversations.conversation import Conversation
from talia_core.conversations.events import (
    MAX_PROVIDER_ID,
    InboundMessage,
    InboxEntry,
    Location,
    MediaRef,
    Sender,
    StatusUpdate,
    ThreadUpdate,
    event_from_data,
)
from talia_core.conversations.messages import Message
from talia_core.conversations.ports import ConversationFilter
from talia_core.conversations.vocabulary import (
    Author,
    Channel,
    ChannelIdentity,
    ConversationStatus,
    DeliveryStatus,
    IdentityKind,
    MessageType,
)
from talia_core.shared.errors import Malformed
from talia_core.shared.pagination import PageRequest
from tests.unit.conversations.conftest import World, whatsapp

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _stored_as_is(text: str) -> bool:
    """What PostgreSQL, MariaDB and SQLite all take: UTF-8, without NUL."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


@given(st.text())
def test_any_text_a_customer_sends_is_storable_and_only_loses_what_cannot_be(text: str) -> None:
    event = whatsapp(text)

    assert event.text is not None
    assert _stored_as_is(event.text)
    assert len(event.text) <= len(text)
    if _stored_as_is(text):
        assert event.text == text


@given(st.text(), st.text(min_size=1))
def test_what_is_normalised_survives_the_trip_through_the_inbox_unchanged(
    text: str, message_id: str
) -> None:
    event = whatsapp(text, message_id=message_id, name=text or None)

    assert event_from_data(event.to_data()) == event


def test_nul_characters_are_removed_and_the_rest_of_the_text_kept() -> None:
    event = whatsapp("a\x00b\x00")

    assert event.text == "ab"


def test_an_unpaired_surrogate_becomes_the_replacement_character() -> None:
    event = whatsapp("a\ud800b \ud83d\ude00")

    assert event.text == "a\ufffdb \U0001f600"


def test_a_message_of_ten_thousand_characters_is_kept_whole() -> None:
    text = "palabra " * 1250
    conversation = Conversation.start("c", Channel.WHATSAPP, None, T0)

    message = Message.inbound(conversation.id, whatsapp(text), T0)

    assert message.text == text.strip()
    assert len(text) == 10_000


def test_a_message_id_too_long_to_store_becomes_its_digest_the_same_every_time() -> None:
    long_id = "wamid." + "x" * 3000

    first, again = whatsapp(message_id=long_id), whatsapp(message_id=long_id)
    other = whatsapp(message_id=long_id + "y")

    assert first.external_id == again.external_id
    assert first.external_id != other.external_id
    assert first.external_id.startswith("sha256:")
    assert len(first.external_id) <= MAX_PROVIDER_ID
    assert InboxEntry.of(first, T0).key == InboxEntry.of(again, T0).key


def test_a_message_id_holding_a_nul_becomes_its_digest() -> None:
    event = whatsapp(message_id="wamid.\x00")

    assert event.external_id.startswith("sha256:")


def test_a_status_finds_a_reply_the_provider_named_with_an_id_too_long_to_store() -> None:
    long_id = "SM" + "9" * 500
    reply = Message.reply(
        Conversation.start("c", Channel.TWILIO, None, T0), author=Author.BOT, at=T0, text="hola"
    )

    reply.accepted(long_id, T0)
    status = StatusUpdate(Channel.TWILIO, long_id, DeliveryStatus.DELIVERED, T0)

    assert reply.external_id == status.external_id
    assert reply.external_id is not None
    assert len(reply.external_id) <= MAX_PROVIDER_ID


def test_a_document_whose_media_id_cannot_be_stored_is_kept_unsupported_with_its_caption() -> None:
    event = whatsapp(
        "la factura",
        type=MessageType.DOCUMENT,
        media=MediaRef("9" * 3000, "application/pdf", "factura.pdf"),
    )

    assert (event.type, event.raw_type, event.media) == (
        MessageType.UNSUPPORTED,
        "document",
        None,
    )
    assert event.text == "la factura"
    assert event_from_data(event.to_data()) == event


async def test_an_attachment_that_cannot_be_stored_is_never_fetched(world: World) -> None:
    event = whatsapp(None, type=MessageType.IMAGE, media=MediaRef("https://x/" + "a" * 1000))

    await world.receive(event)
    await world.run_jobs()

    assert world.media.downloads == []
    [conversation] = (
        await world.desk.list_conversations(PageRequest(), ConversationFilter())
    ).items
    messages = (await world.desk.messages(conversation.id, PageRequest())).items
    [message] = [m for m in messages if m.author is Author.CONTACT]
    assert (message.type, message.raw_type, message.media) == (
        MessageType.UNSUPPORTED,
        "image",
        None,
    )


def test_details_that_would_be_wrong_cut_are_dropped_and_labels_are_shortened() -> None:
    media = MediaRef("123", "image/" + "x" * 300, "f" * 600 + ".pdf")
    place = Location(-12.0, -77.0, "n" * 600, "a\x00" * 1100)
    sender = Sender((ChannelIdentity(IdentityKind.WA_ID, "51987654321"),), "Ana", "5" * 65)

    event = InboundMessage(
        channel=Channel.WHATSAPP,
        external_id="wamid.1",
        sender=sender,
        type=MessageType.DOCUMENT,
        sent_at=T0,
        media=media,
        raw_type="t" * 150,
    )

    assert media.mime_type is None
    assert media.filename == "f" * 500
    assert (place.name, place.address) == ("n" * 500, "a" * 1000)
    assert sender.phone is None
    assert event.raw_type == "t" * 100


def test_a_contacts_name_is_stored_shortened_and_without_nul() -> None:
    sender = Sender((ChannelIdentity(IdentityKind.WA_ID, "51987654321"),), "A\x00na" * 100)

    contact = Contact.first_seen(sender, T0)

    assert contact.name == ("Ana" * 100)[:MAX_NAME]


@pytest.mark.parametrize("value", ["519\x0087", "9" * 201, "\ud800"])
def test_an_identity_that_cannot_be_stored_is_malformed(value: str) -> None:
    with pytest.raises(Malformed):
        ChannelIdentity.of("wa_id", value)


def test_a_thread_that_cannot_be_stored_is_malformed() -> None:
    sender = Sender((ChannelIdentity(IdentityKind.CHATWOOT_CONTACT, "9"),))
    with pytest.raises(Malformed):
        InboundMessage(
            channel=Channel.CHATWOOT,
            external_id="1",
            sender=sender,
            type=MessageType.TEXT,
            sent_at=T0,
            text="hola",
            thread="7" * 201,
        )
    with pytest.raises(Malformed):
        ThreadUpdate(Channel.CHATWOOT, "7\x00", ConversationStatus.HUMAN, T0)


def test_an_assignee_that_cannot_be_stored_is_left_out() -> None:
    update = ThreadUpdate(Channel.CHATWOOT, "77", ConversationStatus.HUMAN, T0, "5" * 37)

    assert update.assignee is None
