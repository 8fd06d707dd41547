"""An assistant set to answer voice with voice sends a voice note; anything in the way
sends the text, which is kept either way."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.channels.media_links import SignedMediaLinks
from adapters.memory.audio import FakeAudioConverter
from adapters.memory.files import InMemoryFileStore
from adapters.memory.speech import FakeTextToSpeech, tone
from talia_core.conversations.conversation import Conversation
from talia_core.conversations.events import MediaRef
from talia_core.conversations.messages import Message
from talia_core.conversations.ports import Speaker
from talia_core.conversations.vocabulary import Author, Channel, MessageType
from talia_core.conversations.voicing import VoiceReplies
from talia_core.shared.errors import CapabilityNotConfigured, ExternalServiceUnavailable, NotFound
from talia_core.shared.pagination import PageRequest
from tests.unit.conversations.conftest import LINK_KEY, World, whatsapp

SPEAKING = Speaker("a-1", "front-desk", 3, voice_replies=True, voice="lucia")


async def _voice_note_answered(world: World) -> list[Message]:
    world.media.serve("voice-1", tone(0.5), "audio/ogg")
    stored = await world.pipeline.ingest(
        whatsapp(None, type=MessageType.AUDIO, media=MediaRef("voice-1", "audio/ogg"))
    )
    assert stored is not None
    await world.run_jobs()
    await world.run_jobs()
    page = await world.desk.messages(stored.conversation_id, PageRequest())
    return [m for m in page.items if m.author is Author.BOT]


async def test_a_voice_note_is_answered_with_a_voice_note_that_keeps_its_text(
    world: World,
) -> None:
    world.assistant.speaker = SPEAKING
    world.hearing.will_hear("¿abren el domingo?")

    [reply] = await _voice_note_answered(world)

    assert reply.type is MessageType.AUDIO
    assert reply.text == "answering: ¿abren el domingo?"
    assert world.speech.spoken == [reply.text]
    [sent] = world.senders[Channel.WHATSAPP].sent
    assert sent.type is MessageType.AUDIO
    assert sent.media_mime_type == "audio/ogg"
    assert sent.media_content is not None
    assert sent.media_content.startswith(b"OggS")
    assert reply.media is not None
    assert sent.media_url == reply.media.source
    assert (await world.pipeline.voice_note(sent.media_url.rsplit("/", 1)[1])).content == (
        sent.media_content
    )


async def test_a_written_message_is_answered_in_writing_by_a_speaking_assistant(
    world: World,
) -> None:
    world.assistant.speaker = SPEAKING
    await world.receive(whatsapp("hola"))

    await world.run_jobs()

    assert [o.type for o in world.senders[Channel.WHATSAPP].sent] == [MessageType.TEXT]
    assert world.speech.spoken == []


async def test_an_assistant_not_set_to_speak_answers_a_voice_note_in_writing(
    world: World,
) -> None:
    world.assistant.speaker = Speaker("a-1", "front-desk", 3)

    [reply] = await _voice_note_answered(world)

    assert reply.type is MessageType.TEXT
    assert world.speech.spoken == []


@pytest.mark.parametrize("broken", ["encoder", "speech"])
async def test_with_no_encoder_or_speech_down_the_reply_goes_out_as_text(
    world: World, broken: str
) -> None:
    world.assistant.speaker = SPEAKING
    if broken == "encoder":
        world.converter.fail_with(CapabilityNotConfigured("audio conversion", "no encoder"))
    else:
        world.speech.fail_with(ExternalServiceUnavailable("speech", "down"))

    [reply] = await _voice_note_answered(world)

    assert (reply.type, reply.media) == (MessageType.TEXT, None)
    [sent] = world.senders[Channel.WHATSAPP].sent
    assert (sent.type, sent.text, sent.media_content) == (MessageType.TEXT, reply.text, None)


async def test_a_link_not_ours_names_no_voice_note(world: World) -> None:
    world.assistant.speaker = SPEAKING
    await _voice_note_answered(world)
    link = world.senders[Channel.WHATSAPP].sent[0].media_url
    assert link is not None
    token = link.rsplit("/", 1)[1]

    with pytest.raises(NotFound):
        await world.pipeline.voice_note(token[:-1] + ("0" if token[-1] != "0" else "1"))


def _spoken_reply(channel: Channel) -> Message:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    conversation = Conversation.start("contact-1", channel, None, at)
    return Message.reply(conversation, author=Author.BOT, at=at, text="hola", spoken=True)


async def test_on_twilio_without_a_public_address_a_voice_reply_goes_out_as_text() -> None:
    voice = VoiceReplies(
        speech=FakeTextToSpeech(),
        converter=FakeAudioConverter(),
        files=InMemoryFileStore(),
        links=SignedMediaLinks(LINK_KEY),
    )
    on_twilio, on_webchat = _spoken_reply(Channel.TWILIO), _spoken_reply(Channel.WEBCHAT)

    await voice.speak(on_twilio, None)
    await voice.speak(on_webchat, None)

    assert (on_twilio.type, on_twilio.media) == (MessageType.TEXT, None)
    assert on_webchat.type is MessageType.AUDIO
    assert on_webchat.media is not None
    assert on_webchat.media.source is not None
    assert on_webchat.media.source.startswith("/api/conversations/media/")
