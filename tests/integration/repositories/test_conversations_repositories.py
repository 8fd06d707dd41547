"""One contract for the conversations repositories: the in-memory fake and SQL on every
database. The races run on all four too: on the real databases they prove that the unique
keys, not the process, keep a provider's message once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import attrs
import pytest

from talia_core.conversations.contacts import Contact
from talia_core.conversations.conversation import Conversation
from talia_core.conversations.events import Location, StatusUpdate
from talia_core.conversations.messages import (
    MAX_TRANSCRIPT,
    Media,
    Message,
    Template,
    Understanding,
)
from talia_core.conversations.ports import ConversationFilter
from talia_core.conversations.tool_uses import ToolUse
from talia_core.conversations.vocabulary import (
    Author,
    Channel,
    ChannelIdentity,
    ConversationStatus,
    DeliveryStatus,
    Direction,
    IdentityKind,
    MessageType,
)
from talia_core.shared.errors import Conflict, NotFound
from talia_core.shared.pagination import PageRequest
from tests.conftest import UowFactory

T0 = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)
WA = ChannelIdentity(IdentityKind.WA_ID, "51987654321")
BSUID = ChannelIdentity(IdentityKind.BSUID, "PE.1349120865530274")
TWILIO = ChannelIdentity(IdentityKind.TWILIO_ADDRESS, "whatsapp:+51987654321")


def _at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def _contact(*identities: ChannelIdentity, name: str | None = None, minutes: float = 0) -> Contact:
    return Contact(
        name=name, identities=list(identities), created_at=_at(minutes), updated_at=_at(minutes)
    )


def _conversation(
    contact: Contact,
    *,
    channel: Channel = Channel.WHATSAPP,
    thread: str | None = None,
    minutes: float = 0,
) -> Conversation:
    return Conversation.start(contact.id, channel, thread, _at(minutes))


def _inbound(
    conversation: Conversation,
    external_id: str | None,
    *,
    minutes: float = 0,
    text: str = "hola",
    channel: Channel | None = None,
) -> Message:
    return Message(
        conversation_id=conversation.id,
        channel=channel or conversation.channel,
        direction=Direction.INBOUND,
        author=Author.CONTACT,
        type=MessageType.TEXT,
        created_at=_at(minutes),
        text=text,
        external_id=external_id,
        status=DeliveryStatus.RECEIVED,
        status_at=_at(minutes),
    )


async def _store(uow_factory: UowFactory, *entities: Contact | Conversation | Message) -> None:
    async with uow_factory() as uow:
        for entity in entities:
            if isinstance(entity, Contact):
                await uow.contacts.add(entity)
            elif isinstance(entity, Conversation):
                await uow.conversations.add(entity)
            else:
                assert await uow.messages.add(entity)
        await uow.commit()


async def _started(uow_factory: UowFactory) -> Conversation:
    contact = _contact(WA, name="Ana")
    conversation = _conversation(contact)
    await _store(uow_factory, contact, conversation)
    return conversation


# ---------------------------------------------------------------------------------- contacts


async def test_a_contact_reads_back_with_every_detail_and_its_identities_in_order(
    uow_factory: UowFactory,
) -> None:
    contact = Contact(
        name="José Ñandú 🌵",
        identities=[TWILIO, WA, BSUID],
        created_at=_at(0),
        updated_at=_at(5),
        phone="+51987654321",
        email="jose@example.com",
        notes="Prefiere que le escriban por la tarde.\nCliente desde 2024.",
    )
    await _store(uow_factory, contact)
    async with uow_factory(read_only=True) as uow:
        stored = await uow.contacts.get(contact.id)
    assert stored == contact
    assert stored.identities == [TWILIO, WA, BSUID]


async def test_a_contact_known_only_by_an_identity_reads_back_with_nulls(
    uow_factory: UowFactory,
) -> None:
    contact = _contact(BSUID)
    await _store(uow_factory, contact)
    async with uow_factory(read_only=True) as uow:
        stored = await uow.contacts.get(contact.id)
    assert stored == contact
    assert (stored.name, stored.phone, stored.email, stored.notes) == (None, None, None, None)


async def test_an_unknown_contact_is_not_found(uow_factory: UowFactory) -> None:
    async with uow_factory(read_only=True) as uow:
        with pytest.raises(NotFound):
            await uow.contacts.get("0190a000-0000-7000-8000-000000000000")


async def test_an_identity_belongs_to_one_contact(uow_factory: UowFactory) -> None:
    first = _contact(WA, name="Ana")
    await _store(uow_factory, first)
    with pytest.raises(Conflict):
        await _store(uow_factory, _contact(BSUID, WA, name="Impostor"))
    async with uow_factory(read_only=True) as uow:
        assert await uow.contacts.by_identities([BSUID]) == []
        assert (await uow.contacts.find(PageRequest(), text=None)).items == [first]


async def test_identities_differ_by_case_and_by_kind(uow_factory: UowFactory) -> None:
    session = ChannelIdentity(IdentityKind.WEBCHAT_SESSION, "Ab3xK")
    contacts = [
        _contact(session),
        _contact(ChannelIdentity(IdentityKind.WEBCHAT_SESSION, "ab3xk")),
        _contact(ChannelIdentity(IdentityKind.CHATWOOT_CONTACT, "Ab3xK")),
    ]
    await _store(uow_factory, *contacts)
    async with uow_factory(read_only=True) as uow:
        assert await uow.contacts.by_identities([session]) == [contacts[0]]


async def test_an_update_stores_details_and_new_identities(uow_factory: UowFactory) -> None:
    contact = _contact(WA)
    await _store(uow_factory, contact)
    async with uow_factory() as uow:
        stored = await uow.contacts.get(contact.id)
        stored.edit(name="Ana Lucía", email="ana@example.com", notes="VIP", at=_at(1))
        stored.identities.append(BSUID)
        await uow.contacts.update(stored)
        await uow.commit()
    async with uow_factory(read_only=True) as uow:
        again = await uow.contacts.get(contact.id)
        holders = await uow.contacts.by_identities([BSUID])
    assert again == stored
    assert again.identities == [WA, BSUID]
    assert holders == [stored]


async def test_an_update_with_an_identity_of_another_contact_is_refused(
    uow_factory: UowFactory,
) -> None:
    ana, luis = _contact(WA, name="Ana"), _contact(TWILIO, name="Luis")
    await _store(uow_factory, ana, luis)
    with pytest.raises(Conflict):
        async with uow_factory() as uow:
            stored = await uow.contacts.get(luis.id)
            stored.identities.append(WA)
            await uow.contacts.update(stored)
            await uow.commit()
    async with uow_factory(read_only=True) as uow:
        assert await uow.contacts.get(luis.id) == luis
        assert await uow.contacts.by_identities([WA]) == [ana]


async def test_by_identities_finds_every_holder_once_oldest_first(
    uow_factory: UowFactory,
) -> None:
    newer = _contact(BSUID, TWILIO, minutes=5)
    older = _contact(WA, minutes=1)
    stranger = _contact(ChannelIdentity(IdentityKind.WA_ID, "51900000000"), minutes=0)
    await _store(uow_factory, newer, older, stranger)
    async with uow_factory(read_only=True) as uow:
        found = await uow.contacts.by_identities([TWILIO, WA, BSUID])
        nobody = await uow.contacts.by_identities(
            [ChannelIdentity(IdentityKind.BSUID, "51987654321")]  # a wa_id's value, as a BSUID
        )
        nothing = await uow.contacts.by_identities([])
    assert found == [older, newer]
    assert nobody == []
    assert nothing == []


async def test_a_removed_contact_frees_its_identities(uow_factory: UowFactory) -> None:
    contact = _contact(WA, BSUID)
    await _store(uow_factory, contact)
    async with uow_factory() as uow:
        await uow.contacts.remove(contact.id)
        await uow.commit()
    successor = _contact(WA, BSUID)
    await _store(uow_factory, successor)
    async with uow_factory(read_only=True) as uow:
        assert await uow.contacts.by_identities([WA, BSUID]) == [successor]
        with pytest.raises(NotFound):
            await uow.contacts.get(contact.id)
    with pytest.raises(NotFound):
        async with uow_factory() as uow:
            await uow.contacts.remove(contact.id)


async def test_a_contact_with_conversations_is_not_removed(uow_factory: UowFactory) -> None:
    conversation = await _started(uow_factory)
    with pytest.raises(Conflict):
        async with uow_factory() as uow:
            await uow.contacts.remove(conversation.contact_id)
            await uow.commit()
    async with uow_factory(read_only=True) as uow:
        assert (await uow.contacts.get(conversation.contact_id)).identities == [WA]


async def test_contacts_list_most_recently_updated_first_and_match_text(
    uow_factory: UowFactory,
) -> None:
    ana = _contact(WA, name="María Pérez", minutes=3)
    luis = _contact(name="Luis", minutes=2)
    luis.email = "luis@example.com"
    percent = _contact(name="100% Verde", minutes=1)
    webchat = _contact(ChannelIdentity(IdentityKind.WEBCHAT_SESSION, "Sess-42"), minutes=4)
    webchat.phone = "+51 1 555 0000"
    await _store(uow_factory, ana, luis, percent, webchat)

    async def names(text: str | None, page: PageRequest | None = None) -> list[str]:
        async with uow_factory(read_only=True) as uow:
            found = await uow.contacts.find(page or PageRequest(), text=text)
        return [c.name or c.id for c in found.items]

    assert await names(None) == [webchat.id, "María Pérez", "Luis", "100% Verde"]
    assert await names("MARÍA") == ["María Pérez"]  # case does not matter
    assert await names("98765") == ["María Pérez"]  # an identity's value
    assert await names("EXAMPLE.com") == ["Luis"]
    assert await names("555 0") == [webchat.id]
    assert await names("sess-4") == [webchat.id]
    assert await names("%") == ["100% Verde"]  # no wildcards
    assert await names("_") == []
    assert await names("nadie") == []
    async with uow_factory(read_only=True) as uow:
        second = await uow.contacts.find(PageRequest(limit=2, offset=2), text=None)
        past = await uow.contacts.find(PageRequest(limit=2, offset=10), text=None)
    assert [c.name for c in second.items] == ["Luis", "100% Verde"]
    assert second.items[0] == luis
    assert (second.total, past.total, past.items) == (4, 4, [])


# ----------------------------------------------------------------------------- conversations


async def test_a_conversation_reads_back_with_every_field(uow_factory: UowFactory) -> None:
    contact = _contact(TWILIO)
    conversation = Conversation(
        contact_id=contact.id,
        channel=Channel.CHATWOOT,
        created_at=_at(0),
        last_activity_at=_at(9),
        thread="chatwoot-Conv-77",
        status=ConversationStatus.CLOSED,
        assignee_id="0190a000-0000-7000-8000-0000000000aa",
        last_inbound_at=_at(8),
        unread_count=3,
        closed_at=_at(9),
        assistant="front-desk",
    )
    bare = _conversation(contact, minutes=1)
    await _store(uow_factory, contact, conversation, bare)
    async with uow_factory(read_only=True) as uow:
        assert await uow.conversations.get(conversation.id) == conversation
        stored_bare = await uow.conversations.get(bare.id)
    assert stored_bare == bare
    assert (stored_bare.thread, stored_bare.assignee_id, stored_bare.last_inbound_at) == (
        None,
        None,
        None,
    )
    assert stored_bare.status is ConversationStatus.BOT


async def test_an_unknown_conversation_is_not_found(uow_factory: UowFactory) -> None:
    async with uow_factory(read_only=True) as uow:
        with pytest.raises(NotFound):
            await uow.conversations.get("0190a000-0000-7000-8000-000000000000")


async def test_a_conversation_needs_a_stored_contact(uow_factory: UowFactory) -> None:
    with pytest.raises(Conflict):
        await _store(uow_factory, _conversation(_contact(WA)))


async def test_a_conversation_update_stores_its_state(uow_factory: UowFactory) -> None:
    conversation = await _started(uow_factory)
    async with uow_factory() as uow:
        stored = await uow.conversations.get(conversation.id)
        stored.receive(_at(1))
        stored.receive(_at(2))
        stored.hand_off("0190a000-0000-7000-8000-0000000000aa", _at(3))
        stored.assistant = "ventas"
        await uow.conversations.update(stored)
        await uow.commit()
    async with uow_factory() as uow:
        again = await uow.conversations.get(conversation.id)
        assert again == stored
        assert (again.unread_count, again.last_inbound_at) == (2, _at(2))
        again.close(_at(4))
        await uow.conversations.update(again)
        await uow.commit()
    async with uow_factory(read_only=True) as uow:
        closed = await uow.conversations.get(conversation.id)
    assert closed == again
    assert (closed.status, closed.closed_at) == (ConversationStatus.CLOSED, _at(4))


async def test_open_for_finds_the_contacts_open_conversation_on_the_channel_and_thread(
    uow_factory: UowFactory,
) -> None:
    contact = _contact(WA, TWILIO)
    closed = _conversation(contact, minutes=0)
    closed.close(_at(1))
    current = _conversation(contact, minutes=2)
    on_twilio = _conversation(contact, channel=Channel.TWILIO, minutes=3)
    threaded = _conversation(contact, channel=Channel.WEBCHAT, thread="s-1", minutes=4)
    await _store(uow_factory, contact, closed, current, on_twilio, threaded)
    async with uow_factory() as uow:
        assert await uow.conversations.open_for(contact.id, Channel.WHATSAPP, None) == current
        assert await uow.conversations.open_for(contact.id, Channel.TWILIO, None) == on_twilio
        assert await uow.conversations.open_for(contact.id, Channel.WEBCHAT, "s-1") == threaded
        assert await uow.conversations.open_for(contact.id, Channel.WEBCHAT, "S-1") is None
        assert await uow.conversations.open_for(contact.id, Channel.WEBCHAT, None) is None
        assert await uow.conversations.open_for(contact.id, Channel.WHATSAPP, "s-1") is None
        assert await uow.conversations.open_for(contact.id, Channel.CHATWOOT, None) is None


async def test_open_for_ignores_closed_conversations(uow_factory: UowFactory) -> None:
    contact = _contact(WA)
    conversation = _conversation(contact)
    conversation.close(_at(1))
    await _store(uow_factory, contact, conversation)
    async with uow_factory() as uow:
        assert await uow.conversations.open_for(contact.id, Channel.WHATSAPP, None) is None


async def test_by_thread_finds_the_newest_conversation_of_the_channels_handle(
    uow_factory: UowFactory,
) -> None:
    contact = _contact(ChannelIdentity(IdentityKind.CHATWOOT_CONTACT, "12"))
    old = _conversation(contact, channel=Channel.CHATWOOT, thread="77", minutes=0)
    old.close(_at(1))
    new = _conversation(contact, channel=Channel.CHATWOOT, thread="77", minutes=2)
    elsewhere = _conversation(contact, channel=Channel.WEBCHAT, thread="77", minutes=3)
    await _store(uow_factory, contact, old, new, elsewhere)
    async with uow_factory(read_only=True) as uow:
        assert await uow.conversations.by_thread(Channel.CHATWOOT, "77") == new
        assert await uow.conversations.by_thread(Channel.WEBCHAT, "77") == elsewhere
        assert await uow.conversations.by_thread(Channel.CHATWOOT, "78") is None


async def test_move_contact_moves_every_conversation_of_a_contact(
    uow_factory: UowFactory,
) -> None:
    keep, merged, other = _contact(WA), _contact(BSUID), _contact(TWILIO)
    moved = [_conversation(merged, minutes=1), _conversation(merged, minutes=2)]
    untouched = _conversation(other, channel=Channel.TWILIO)
    await _store(uow_factory, keep, merged, other, *moved, untouched)
    async with uow_factory() as uow:
        await uow.conversations.move_contact(merged.id, keep.id)
        await uow.contacts.remove(merged.id)
        await uow.commit()
    async with uow_factory(read_only=True) as uow:
        kept = await uow.conversations.find(PageRequest(), ConversationFilter(contact_id=keep.id))
        others = await uow.conversations.find(
            PageRequest(), ConversationFilter(contact_id=other.id)
        )
    assert {c.id for c in kept.items} == {c.id for c in moved}
    assert [c.id for c in others.items] == [untouched.id]


async def test_conversations_list_by_latest_activity_with_filters_and_totals(
    uow_factory: UowFactory,
) -> None:
    agent = "0190a000-0000-7000-8000-0000000000aa"
    ana, luis = _contact(WA, name="Ana Torres"), _contact(TWILIO, name="Luis")
    bot_wa = _conversation(ana, minutes=0)
    bot_wa.receive(_at(10))
    human_wa = _conversation(luis, minutes=1)
    human_wa.hand_off(agent, _at(5))
    human_tw = _conversation(luis, channel=Channel.TWILIO, minutes=2)
    human_tw.hand_off(None, _at(7))
    closed = _conversation(ana, channel=Channel.WEBCHAT, thread="s-9", minutes=3)
    closed.close(_at(4))
    await _store(uow_factory, ana, luis, bot_wa, human_wa, human_tw, closed)

    async def listed(criteria: ConversationFilter, page: PageRequest | None = None) -> list[str]:
        async with uow_factory(read_only=True) as uow:
            found = await uow.conversations.find(page or PageRequest(), criteria)
        return [c.id for c in found.items]

    everything = [bot_wa.id, human_tw.id, human_wa.id, closed.id]
    assert await listed(ConversationFilter()) == everything
    assert await listed(ConversationFilter(status=ConversationStatus.HUMAN)) == [
        human_tw.id,
        human_wa.id,
    ]
    assert await listed(ConversationFilter(channel=Channel.WHATSAPP)) == [bot_wa.id, human_wa.id]
    assert await listed(ConversationFilter(assignee_id=agent)) == [human_wa.id]
    assert await listed(
        ConversationFilter(status=ConversationStatus.HUMAN, channel=Channel.TWILIO)
    ) == [human_tw.id]
    assert await listed(ConversationFilter(contact_id=ana.id)) == [bot_wa.id, closed.id]
    assert await listed(ConversationFilter(text="ana TOR")) == [bot_wa.id, closed.id]
    assert await listed(ConversationFilter(text="whatsapp:+51")) == [human_tw.id, human_wa.id]
    assert await listed(ConversationFilter(text="nadie")) == []
    async with uow_factory(read_only=True) as uow:
        page = await uow.conversations.find(PageRequest(limit=3, offset=1), ConversationFilter())
        past = await uow.conversations.find(
            PageRequest(limit=3, offset=5), ConversationFilter(status=ConversationStatus.HUMAN)
        )
    assert [c.id for c in page.items] == everything[1:]
    assert page.items[0] == human_tw
    assert (page.total, past.total, past.items) == (4, 2, [])


# ---------------------------------------------------------------------------------- messages


async def test_an_inbound_message_with_media_and_location_reads_back_equal(
    uow_factory: UowFactory,
) -> None:
    conversation = await _started(uow_factory)
    photo = Message(
        conversation_id=conversation.id,
        channel=Channel.WHATSAPP,
        direction=Direction.INBOUND,
        author=Author.CONTACT,
        type=MessageType.IMAGE,
        created_at=_at(1),
        text="Así quedó la decoración 🎉",
        media=Media(
            source="1234567890",
            file_key="media/2026/03/x.jpg",
            mime_type="image/jpeg",
            filename="decoración.jpg",
            size=5_242_880_000,
        ),
        external_id="wamid.HBgLNTE5ODc2NTQzMjEVAgASGBQzQUY2",
        status=DeliveryStatus.RECEIVED,
        status_at=_at(1),
        raw_type="image",
    )
    place = Message(
        conversation_id=conversation.id,
        channel=Channel.WHATSAPP,
        direction=Direction.INBOUND,
        author=Author.CONTACT,
        type=MessageType.LOCATION,
        created_at=_at(2),
        location=Location(-12.046374, -77.042793, "Plaza Mayor", "Jr. de la Unión, Lima"),
        external_id="wamid.location",
        status=DeliveryStatus.RECEIVED,
        status_at=_at(2),
    )
    bare_place = Message(
        conversation_id=conversation.id,
        channel=Channel.WHATSAPP,
        direction=Direction.INBOUND,
        author=Author.CONTACT,
        type=MessageType.LOCATION,
        created_at=_at(3),
        location=Location(0.0, 179.999999999),
        external_id="wamid.bare-location",
    )
    await _store(uow_factory, photo, place, bare_place)
    async with uow_factory(read_only=True) as uow:
        assert await uow.messages.get(photo.id) == photo
        assert await uow.messages.get(place.id) == place
        assert await uow.messages.get(bare_place.id) == bare_place


async def test_an_outbound_template_and_a_bare_reply_read_back_equal(
    uow_factory: UowFactory,
) -> None:
    conversation = await _started(uow_factory)
    template = Message.reply(
        conversation,
        author=Author.AGENT,
        at=_at(1),
        template=Template("recordatorio_cita", "es_PE", ("Ana", "martes 10:00", "")),
        author_id="0190a000-0000-7000-8000-0000000000aa",
    )
    no_parameters = Message.reply(
        conversation, author=Author.BOT, at=_at(2), template=Template("hola", "es")
    )
    bare = Message.reply(
        conversation,
        author=Author.BOT,
        at=_at(3),
        text="¿En qué te ayudo?",
        author_id="0190a000-0000-7000-8000-0000000000bb",
        author_version=4,
    )
    await _store(uow_factory, template, no_parameters, bare)
    async with uow_factory(read_only=True) as uow:
        assert await uow.messages.get(template.id) == template
        assert await uow.messages.get(no_parameters.id) == no_parameters
        stored = await uow.messages.get(bare.id)
    assert stored == bare
    assert (stored.media, stored.location, stored.template, stored.external_id) == (
        None,
        None,
        None,
        None,
    )
    assert stored.status is DeliveryStatus.PENDING


async def test_an_unknown_message_is_not_found(uow_factory: UowFactory) -> None:
    async with uow_factory(read_only=True) as uow:
        with pytest.raises(NotFound):
            await uow.messages.get("0190a000-0000-7000-8000-000000000000")
        assert await uow.messages.by_external_id(Channel.WHATSAPP, "wamid.none") is None


async def test_a_message_update_stores_delivery_and_media(uow_factory: UowFactory) -> None:
    conversation = await _started(uow_factory)
    reply = Message.reply(conversation, author=Author.BOT, at=_at(1), text="Hola")
    await _store(uow_factory, reply)
    async with uow_factory() as uow:
        stored = await uow.messages.get(reply.id)
        stored.accepted("wamid.out-1", _at(2))
        stored.attach(Media(file_key="media/reply.pdf", mime_type="application/pdf", size=10))
        await uow.messages.update(stored)
        await uow.commit()
    async with uow_factory() as uow:
        sent = await uow.messages.by_external_id(Channel.WHATSAPP, "wamid.out-1")
        assert sent == stored
        assert sent is not None
        sent.record_status(
            StatusUpdate(
                Channel.WHATSAPP,
                "wamid.out-1",
                DeliveryStatus.FAILED,
                _at(3),
                "131047",
                "Re-engagement message",
            )
        )
        await uow.messages.update(sent)
        await uow.commit()
    async with uow_factory(read_only=True) as uow:
        failed = await uow.messages.get(reply.id)
        elsewhere = await uow.messages.by_external_id(Channel.TWILIO, "wamid.out-1")
    assert failed == sent
    assert (failed.status, failed.error_code) == (DeliveryStatus.FAILED, "131047")
    assert elsewhere is None


async def test_a_voice_notes_words_and_a_spoken_reply_turned_to_text_are_stored(
    uow_factory: UowFactory,
) -> None:
    conversation = await _started(uow_factory)
    voice = attrs.evolve(
        _inbound(conversation, "wamid.voice", text=""),
        type=MessageType.AUDIO,
        text=None,
        media=Media(source="media-1", mime_type="audio/ogg"),
        understanding=Understanding.PENDING,
    )
    reply = Message.reply(conversation, author=Author.BOT, at=_at(1), text="Hola", spoken=True)
    await _store(uow_factory, voice, reply)
    async with uow_factory(read_only=True) as uow:
        assert await uow.messages.get(voice.id) == voice
        assert (await uow.messages.get(reply.id)).type is MessageType.AUDIO
    async with uow_factory() as uow:
        heard, spoken = await uow.messages.get(voice.id), await uow.messages.get(reply.id)
        heard.understood("una torta 🎂 para cuarenta " * 500)
        spoken.spoken_as_text()
        await uow.messages.update(heard)
        await uow.messages.update(spoken)
        await uow.commit()
    async with uow_factory(read_only=True) as uow:
        assert await uow.messages.get(voice.id) == heard
        assert (await uow.messages.get(reply.id)).type is MessageType.TEXT
    assert heard.transcript is not None
    assert len(heard.transcript) == MAX_TRANSCRIPT
    assert heard.understanding is Understanding.UNDERSTOOD


async def test_a_provider_message_id_is_stored_once_per_channel(uow_factory: UowFactory) -> None:
    conversation = await _started(uow_factory)
    first = _inbound(conversation, "wamid.1", text="primero")
    async with uow_factory() as uow:
        assert await uow.messages.add(first) is True
        assert await uow.messages.add(_inbound(conversation, "wamid.1", text="again")) is False
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.messages.add(_inbound(conversation, "wamid.1", text="later")) is False
        # The same id on another channel, and in another case, is another message.
        assert (
            await uow.messages.add(_inbound(conversation, "wamid.1", channel=Channel.TWILIO))
            is True
        )
        assert await uow.messages.add(_inbound(conversation, "WAMID.1")) is True
        await uow.commit()
    async with uow_factory(read_only=True) as uow:
        stored = await uow.messages.by_external_id(Channel.WHATSAPP, "wamid.1")
        total = (await uow.messages.find(conversation.id, PageRequest())).total
    assert stored == first
    assert total == 3


async def test_messages_without_a_provider_id_never_collide(uow_factory: UowFactory) -> None:
    conversation = await _started(uow_factory)
    replies = [
        Message.reply(conversation, author=Author.BOT, at=_at(n), text=f"respuesta {n}")
        for n in range(3)
    ]
    async with uow_factory() as uow:
        assert [await uow.messages.add(m) for m in replies] == [True, True, True]
        await uow.commit()
    async with uow_factory(read_only=True) as uow:
        assert (await uow.messages.find(conversation.id, PageRequest())).total == 3


async def test_a_message_needs_a_stored_conversation(uow_factory: UowFactory) -> None:
    orphan = _inbound(_conversation(_contact(WA)), "wamid.orphan")
    with pytest.raises(Conflict):
        async with uow_factory() as uow:
            await uow.messages.add(orphan)


async def test_history_is_the_latest_messages_oldest_first(uow_factory: UowFactory) -> None:
    conversation = await _started(uow_factory)
    other = await _started_other(uow_factory)
    sent = [_inbound(conversation, f"wamid.{n}", minutes=n) for n in (3, 1, 4, 0, 2)]
    await _store(uow_factory, *sent, _inbound(other, "wamid.other", minutes=9))
    async with uow_factory(read_only=True) as uow:
        last_three = await uow.messages.history(conversation.id, 3)
        everything = await uow.messages.history(conversation.id, 50)
    assert [m.external_id for m in last_three] == ["wamid.2", "wamid.3", "wamid.4"]
    assert [m.created_at for m in everything] == [_at(n) for n in range(5)]


async def test_messages_list_newest_first_with_totals(uow_factory: UowFactory) -> None:
    conversation = await _started(uow_factory)
    await _store(uow_factory, *(_inbound(conversation, f"wamid.{n}", minutes=n) for n in range(5)))
    async with uow_factory(read_only=True) as uow:
        page = await uow.messages.find(conversation.id, PageRequest(limit=2, offset=1))
        past = await uow.messages.find(conversation.id, PageRequest(limit=2, offset=9))
        unknown = await uow.messages.find("0190a000-0000-7000-8000-000000000000", PageRequest())
    assert [m.external_id for m in page.items] == ["wamid.3", "wamid.2"]
    assert (page.total, past.total, past.items, unknown.total) == (5, 5, [], 0)


async def _started_other(uow_factory: UowFactory) -> Conversation:
    contact = _contact(TWILIO, name="Luis")
    conversation = _conversation(contact, channel=Channel.TWILIO)
    await _store(uow_factory, contact, conversation)
    return conversation


# --------------------------------------------------------------------------------- races


async def test_concurrent_deliveries_of_one_provider_message_keep_exactly_one(
    uow_factory: UowFactory,
) -> None:
    conversation = await _started(uow_factory)

    async def deliver(n: int) -> bool:
        async with uow_factory() as uow:
            kept = await uow.messages.add(_inbound(conversation, "wamid.race", text=f"copy {n}"))
            await asyncio.sleep(0.05)  # the others arrive while this one is not committed
            await uow.commit()
            return kept

    results = await asyncio.gather(*(deliver(n) for n in range(8)))

    assert sorted(results) == [False] * 7 + [True]
    async with uow_factory(read_only=True) as uow:
        stored = await uow.messages.find(conversation.id, PageRequest())
    assert stored.total == 1
    assert stored.items[0].text == f"copy {results.index(True)}"


def _tool_use(conversation: Conversation, minutes: float, tool: str = "catalog_prices") -> ToolUse:
    return ToolUse(
        conversation_id=conversation.id,
        at=_at(minutes),
        assistant="front-desk",
        assistant_version=2,
        tool=tool,
        arguments='{"plan": "Básico"}',
        output='{"price": "S/ 150.00"}' * 100,
    )


async def test_tool_uses_read_back_newest_first_with_totals(uow_factory: UowFactory) -> None:
    conversation = await _started(uow_factory)
    someone_else = _contact(TWILIO)
    other = _conversation(someone_else, channel=Channel.TWILIO)
    await _store(uow_factory, someone_else, other)
    uses = [_tool_use(conversation, minutes) for minutes in (1, 3, 2)]
    async with uow_factory() as uow:
        for use in [*uses, _tool_use(other, 1)]:
            await uow.tool_uses.add(use)
        await uow.commit()
    async with uow_factory(read_only=True) as uow:
        page = await uow.tool_uses.find(conversation.id, PageRequest(limit=2))
    assert page.total == 3
    assert page.items == [uses[1], uses[2]]


async def test_a_tool_use_needs_a_stored_conversation(uow_factory: UowFactory) -> None:
    stray = _tool_use(_conversation(_contact(WA)), 1)
    with pytest.raises(Conflict):
        async with uow_factory() as uow:
            await uow.tool_uses.add(stray)
            await uow.commit()
