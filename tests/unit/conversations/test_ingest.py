"""Inbound messages become contacts, conversations and messages, each stored once."""

from __future__ import annotations

from talia_core.conversations.events import MediaRef
from talia_core.conversations.ports import ConversationFilter
from talia_core.conversations.vocabulary import (
    ChannelIdentity,
    ConversationStatus,
    IdentityKind,
    MessageType,
)
from talia_core.shared.jobs import JobStatus
from talia_core.shared.pagination import PageRequest
from tests.unit.conversations.conftest import World, chatwoot, whatsapp


async def test_a_first_message_creates_the_contact_the_conversation_and_the_message(
    world: World,
) -> None:
    stored = await world.pipeline.ingest(whatsapp("hola", wa_id="51911111111", name="Ana"))

    assert stored is not None
    contacts = await world.contacts.list_contacts(PageRequest())
    assert [(c.name, c.phone) for c in contacts.items] == [("Ana", "51911111111")]
    conversation = await world.desk.conversation(stored.conversation_id)
    assert conversation.status is ConversationStatus.BOT
    assert conversation.unread_count == 1
    assert conversation.last_inbound_at == stored.created_at


async def test_the_same_message_delivered_twice_is_stored_once(world: World) -> None:
    event = whatsapp("hola", message_id="wamid.same")

    first = await world.pipeline.ingest(event)
    second = await world.pipeline.ingest(event)

    assert first is not None
    assert second is None
    page = await world.desk.messages(first.conversation_id, PageRequest())
    assert page.total == 1
    assert (await world.desk.conversation(first.conversation_id)).unread_count == 1


async def test_a_sender_known_by_phone_and_later_by_business_scoped_id_stays_one_contact(
    world: World,
) -> None:
    await world.receive(whatsapp("hola", wa_id="51922222222", bsuid=None))
    await world.receive(whatsapp("sigo aquí", wa_id="51922222222", bsuid="PE.1234567890"))
    await world.receive(whatsapp("sin teléfono", wa_id=None, bsuid="PE.1234567890"))

    contacts = (await world.contacts.list_contacts(PageRequest())).items
    assert len(contacts) == 1
    assert set(contacts[0].identities) == {
        ChannelIdentity(IdentityKind.WA_ID, "51922222222"),
        ChannelIdentity(IdentityKind.BSUID, "PE.1234567890"),
    }
    conversations = await world.desk.list_conversations(PageRequest(), ConversationFilter())
    assert conversations.total == 1


async def test_a_message_that_links_two_known_contacts_merges_them_into_the_older(
    world: World,
) -> None:
    phone_only = await world.pipeline.ingest(whatsapp("a", wa_id="51933333333", bsuid=None))
    await world.receive(whatsapp("b", wa_id=None, bsuid="PE.999", name=None))

    await world.receive(whatsapp("c", wa_id="51933333333", bsuid="PE.999"))

    assert phone_only is not None
    contacts = (await world.contacts.list_contacts(PageRequest())).items
    assert len(contacts) == 1
    kept = await world.desk.conversation(phone_only.conversation_id)
    assert contacts[0].id == kept.contact_id
    assert {i.kind for i in contacts[0].identities} == {IdentityKind.WA_ID, IdentityKind.BSUID}


async def test_an_agent_can_merge_the_same_person_on_two_channels(world: World) -> None:
    on_whatsapp = await world.pipeline.ingest(whatsapp("hola"))
    on_chatwoot = await world.pipeline.ingest(chatwoot("hola desde la web"))
    assert on_whatsapp is not None
    assert on_chatwoot is not None
    keep = (await world.desk.conversation(on_whatsapp.conversation_id)).contact_id
    other = (await world.desk.conversation(on_chatwoot.conversation_id)).contact_id

    merged = await world.contacts.merge_contacts(keep, other)

    assert {i.kind for i in merged.identities} == {
        IdentityKind.WA_ID,
        IdentityKind.CHATWOOT_CONTACT,
    }
    moved = await world.desk.conversation(on_chatwoot.conversation_id)
    assert moved.contact_id == keep
    assert (await world.contacts.list_contacts(PageRequest())).total == 1


async def test_a_message_after_the_conversation_was_closed_opens_a_new_one(world: World) -> None:
    first = await world.pipeline.ingest(whatsapp("hola"))
    assert first is not None
    await world.desk.close(first.conversation_id)

    second = await world.pipeline.ingest(whatsapp("otra vez"))

    assert second is not None
    assert second.conversation_id != first.conversation_id


async def test_an_unsupported_message_is_stored_as_it_came(world: World) -> None:
    stored = await world.pipeline.ingest(whatsapp(None, type=MessageType.UNSUPPORTED))

    assert stored is not None
    assert stored.type is MessageType.UNSUPPORTED
    await world.run_jobs()
    assert world.assistant.turns[0].unanswered[0].type == "unsupported"


async def test_inbound_media_is_copied_into_the_file_store(world: World) -> None:
    world.media.serve("media-1", b"\x89PNG-bytes", "image/png")
    stored = await world.pipeline.ingest(
        whatsapp("mira", type=MessageType.IMAGE, media=MediaRef("media-1", "image/png"))
    )
    assert stored is not None

    await world.run_jobs()

    [message] = (await world.desk.messages(stored.conversation_id, PageRequest())).items[-1:]
    assert message.media is not None
    assert message.media.file_key == f"media/2026/01/{stored.id}.png"
    assert message.media.size == len(b"\x89PNG-bytes")
    assert (await world.files.get(message.media.file_key)).content == b"\x89PNG-bytes"


async def test_a_media_download_that_keeps_failing_ends_dead_and_the_message_stays(
    world: World,
) -> None:
    stored = await world.pipeline.ingest(
        whatsapp("mira", type=MessageType.IMAGE, media=MediaRef("missing", "image/png"))
    )
    assert stored is not None

    await world.run_jobs()

    dead = await world.runner.list(PageRequest(), status=JobStatus.DEAD)
    assert [job.kind for job in dead.items] == ["conversations.media"]
    page = await world.desk.messages(stored.conversation_id, PageRequest())
    assert stored.id in {m.id for m in page.items}


async def test_the_inbox_acknowledges_duplicates_without_storing_them_again(world: World) -> None:
    event = whatsapp("hola", message_id="wamid.inbox")

    first = await world.inbox.receive([event])
    second = await world.inbox.receive([event, event])

    assert (first.accepted, first.duplicates) == (1, 0)
    assert (second.accepted, second.duplicates) == (0, 2)
    await world.run_jobs()
    contacts = await world.contacts.list_contacts(PageRequest())
    assert contacts.total == 1
