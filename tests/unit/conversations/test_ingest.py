"""Inbound messages become contacts, conversations and messages, each stored once."""

from __future__ import annotations

from talia_core.conversations.model import (
    ChannelIdentity,
    ConversationStatus,
    IdentityKind,
    MediaRef,
    MessageType,
)
from talia_core.conversations.ports import ConversationFilter
from talia_core.shared.jobs import JobStatus
from talia_core.shared.pagination import PageRequest
from tests.unit.conversations.conftest import Desk, chatwoot, whatsapp


async def test_a_first_message_creates_the_contact_the_conversation_and_the_message(
    desk: Desk,
) -> None:
    stored = await desk.service.ingest(whatsapp("hola", wa_id="51911111111", name="Ana"))

    assert stored is not None
    contacts = await desk.service.list_contacts(PageRequest())
    assert [(c.name, c.phone) for c in contacts.items] == [("Ana", "51911111111")]
    conversation = await desk.service.conversation(stored.conversation_id)
    assert conversation.status is ConversationStatus.BOT
    assert conversation.unread_count == 1
    assert conversation.last_inbound_at == stored.created_at


async def test_the_same_message_delivered_twice_is_stored_once(desk: Desk) -> None:
    event = whatsapp("hola", message_id="wamid.same")

    first = await desk.service.ingest(event)
    second = await desk.service.ingest(event)

    assert first is not None
    assert second is None
    page = await desk.service.messages(first.conversation_id, PageRequest())
    assert page.total == 1
    assert (await desk.service.conversation(first.conversation_id)).unread_count == 1


async def test_a_sender_known_by_phone_and_later_by_business_scoped_id_stays_one_contact(
    desk: Desk,
) -> None:
    await desk.receive(whatsapp("hola", wa_id="51922222222", bsuid=None))
    await desk.receive(whatsapp("sigo aquí", wa_id="51922222222", bsuid="PE.1234567890"))
    await desk.receive(whatsapp("sin teléfono", wa_id=None, bsuid="PE.1234567890"))

    contacts = (await desk.service.list_contacts(PageRequest())).items
    assert len(contacts) == 1
    assert set(contacts[0].identities) == {
        ChannelIdentity(IdentityKind.WA_ID, "51922222222"),
        ChannelIdentity(IdentityKind.BSUID, "PE.1234567890"),
    }
    conversations = await desk.service.list_conversations(PageRequest(), ConversationFilter())
    assert conversations.total == 1


async def test_a_message_that_links_two_known_contacts_merges_them_into_the_older(
    desk: Desk,
) -> None:
    phone_only = await desk.service.ingest(whatsapp("a", wa_id="51933333333", bsuid=None))
    await desk.receive(whatsapp("b", wa_id=None, bsuid="PE.999", name=None))

    await desk.receive(whatsapp("c", wa_id="51933333333", bsuid="PE.999"))

    assert phone_only is not None
    contacts = (await desk.service.list_contacts(PageRequest())).items
    assert len(contacts) == 1
    kept = await desk.service.conversation(phone_only.conversation_id)
    assert contacts[0].id == kept.contact_id
    assert {i.kind for i in contacts[0].identities} == {IdentityKind.WA_ID, IdentityKind.BSUID}


async def test_an_agent_can_merge_the_same_person_on_two_channels(desk: Desk) -> None:
    on_whatsapp = await desk.service.ingest(whatsapp("hola"))
    on_chatwoot = await desk.service.ingest(chatwoot("hola desde la web"))
    assert on_whatsapp is not None
    assert on_chatwoot is not None
    keep = (await desk.service.conversation(on_whatsapp.conversation_id)).contact_id
    other = (await desk.service.conversation(on_chatwoot.conversation_id)).contact_id

    merged = await desk.service.merge_contacts(keep, other)

    assert {i.kind for i in merged.identities} == {
        IdentityKind.WA_ID,
        IdentityKind.CHATWOOT_CONTACT,
    }
    moved = await desk.service.conversation(on_chatwoot.conversation_id)
    assert moved.contact_id == keep
    assert (await desk.service.list_contacts(PageRequest())).total == 1


async def test_a_message_after_the_conversation_was_closed_opens_a_new_one(desk: Desk) -> None:
    first = await desk.service.ingest(whatsapp("hola"))
    assert first is not None
    await desk.service.close(first.conversation_id)

    second = await desk.service.ingest(whatsapp("otra vez"))

    assert second is not None
    assert second.conversation_id != first.conversation_id


async def test_an_unsupported_message_is_stored_as_it_came(desk: Desk) -> None:
    stored = await desk.service.ingest(whatsapp(None, type=MessageType.UNSUPPORTED))

    assert stored is not None
    assert stored.type is MessageType.UNSUPPORTED
    await desk.run_jobs()
    assert desk.assistant.turns[0].unanswered[0].type == "unsupported"


async def test_inbound_media_is_copied_into_the_file_store(desk: Desk) -> None:
    desk.media.serve("media-1", b"\x89PNG-bytes", "image/png")
    stored = await desk.service.ingest(
        whatsapp("mira", type=MessageType.IMAGE, media=MediaRef("media-1", "image/png"))
    )
    assert stored is not None

    await desk.run_jobs()

    [message] = (await desk.service.messages(stored.conversation_id, PageRequest())).items[-1:]
    assert message.media is not None
    assert message.media.file_key == f"media/2026/01/{stored.id}.png"
    assert message.media.size == len(b"\x89PNG-bytes")
    assert (await desk.files.get(message.media.file_key)).content == b"\x89PNG-bytes"


async def test_a_media_download_that_keeps_failing_ends_dead_and_the_message_stays(
    desk: Desk,
) -> None:
    stored = await desk.service.ingest(
        whatsapp("mira", type=MessageType.IMAGE, media=MediaRef("missing", "image/png"))
    )
    assert stored is not None

    await desk.run_jobs()

    dead = await desk.runner.list(PageRequest(), status=JobStatus.DEAD)
    assert [job.kind for job in dead.items] == ["conversations.media"]
    page = await desk.service.messages(stored.conversation_id, PageRequest())
    assert stored.id in {m.id for m in page.items}


async def test_the_inbox_acknowledges_duplicates_without_storing_them_again(desk: Desk) -> None:
    event = whatsapp("hola", message_id="wamid.inbox")

    first = await desk.inbox.receive([event])
    second = await desk.inbox.receive([event, event])

    assert (first.accepted, first.duplicates) == (1, 0)
    assert (second.accepted, second.duplicates) == (0, 2)
    await desk.run_jobs()
    contacts = await desk.service.list_contacts(PageRequest())
    assert contacts.total == 1
