"""Voice notes are transcribed and photos described before the assistant answers; an
engine that is down or missing degrades the answer, never drops it."""

from __future__ import annotations

from adapters.memory.speech import tone
from talia_core.conversations.events import MediaRef
from talia_core.conversations.messages import Message, Understanding
from talia_core.conversations.understanding import NOT_HEARD, NOT_SEEN, RETRY_AFTER
from talia_core.conversations.vocabulary import MessageType
from talia_core.shared.errors import CapabilityNotConfigured, ExternalServiceUnavailable
from talia_core.shared.jobs import JobStatus
from talia_core.shared.pagination import PageRequest
from tests.unit.conversations.conftest import World, whatsapp

VOICE = tone(0.5)
PHOTO = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def voice_note(reference: str = "voice-1") -> MediaRef:
    return MediaRef(reference, "audio/ogg; codecs=opus")


async def _stored(world: World, message_id: str) -> Message:
    async with world.uow(read_only=True) as uow:
        return await uow.messages.get(message_id)


async def _receive_voice(world: World, reference: str = "voice-1") -> Message:
    world.media.serve(reference, VOICE, "audio/ogg")
    stored = await world.pipeline.ingest(
        whatsapp(None, type=MessageType.AUDIO, media=voice_note(reference))
    )
    assert stored is not None
    return stored


async def _answer(world: World) -> None:
    """The media job runs, then the turn it scheduled after the debounce."""
    await world.run_jobs()
    await world.run_jobs()


async def _dead_jobs(world: World) -> list[str]:
    return [j.kind for j in (await world.runner.list(PageRequest(), status=JobStatus.DEAD)).items]


async def test_a_voice_note_is_transcribed_before_the_assistant_answers_it(world: World) -> None:
    world.hearing.will_hear("quiero una cita el sábado")
    stored = await _receive_voice(world)

    await _answer(world)

    [turn] = world.assistant.turns
    assert [m.text for m in turn.unanswered] == ["quiero una cita el sábado"]
    message = await _stored(world, stored.id)
    assert message.transcript == "quiero una cita el sábado"
    assert message.understanding is Understanding.UNDERSTOOD
    assert message.media is not None
    assert message.media.file_key is not None
    assert world.hearing.heard[0].content == VOICE


async def test_the_turn_waits_while_a_voice_note_is_not_yet_transcribed(world: World) -> None:
    stored = await _receive_voice(world)

    answered = await world.pipeline.take_assistant_turn(stored.conversation_id)

    assert answered == []
    assert world.assistant.turns == []


async def test_a_text_and_a_voice_note_in_a_row_get_one_turn_that_reads_both(
    world: World,
) -> None:
    world.hearing.will_hear("para cuarenta personas")
    await world.receive(whatsapp("hola, una consulta"))
    await _receive_voice(world)

    await _answer(world)

    [turn] = world.assistant.turns
    assert [m.text for m in turn.unanswered] == ["hola, una consulta", "para cuarenta personas"]


async def test_a_photo_is_described_and_the_customers_caption_is_kept(world: World) -> None:
    world.media.serve("photo-1", PHOTO, "image/png")
    stored = await world.pipeline.ingest(
        whatsapp("¿cuánto cuesta?", type=MessageType.IMAGE, media=MediaRef("photo-1", "image/png"))
    )
    assert stored is not None

    await _answer(world)

    [turn] = world.assistant.turns
    assert [m.text for m in turn.unanswered] == ["[imagen: una torta de bodas] ¿cuánto cuesta?"]
    message = await _stored(world, stored.id)
    assert (message.text, message.transcript) == ("¿cuánto cuesta?", "una torta de bodas")


async def test_with_speech_recognition_down_the_turn_runs_at_once_and_a_retry_fills_the_words(
    world: World,
) -> None:
    world.hearing.fail_with(ExternalServiceUnavailable("speech", "down"))
    stored = await _receive_voice(world)

    await _answer(world)

    [turn] = world.assistant.turns
    assert [m.text for m in turn.unanswered] == [NOT_HEARD]
    degraded = await _stored(world, stored.id)
    assert degraded.understanding is Understanding.NOT_UNDERSTOOD
    assert degraded.media is not None
    assert degraded.media.file_key is not None

    world.hearing.fail_with(None)
    world.hearing.will_hear("ya me escuchan")
    await world.run_jobs(after=RETRY_AFTER)

    mended = await _stored(world, stored.id)
    assert (mended.transcript, mended.understanding) == ("ya me escuchan", Understanding.UNDERSTOOD)
    assert len(world.assistant.turns) == 1  # the customer was answered already


async def test_a_retry_gives_up_after_the_runners_attempts_and_the_message_stays(
    world: World,
) -> None:
    world.hearing.fail_with(ExternalServiceUnavailable("speech", "down"))
    stored = await _receive_voice(world)

    for _ in range(4):
        await world.run_jobs(after=RETRY_AFTER)

    assert await _dead_jobs(world) == ["conversations.understand"]
    assert (await _stored(world, stored.id)).understanding is Understanding.NOT_UNDERSTOOD
    assert len(world.assistant.turns) == 1


async def test_speech_recognition_not_configured_degrades_and_leaves_its_retry_for_an_admin(
    world: World,
) -> None:
    world.hearing.fail_with(CapabilityNotConfigured("speech to text", "no provider"))
    await _receive_voice(world)

    await _answer(world)
    await world.run_jobs(after=RETRY_AFTER)

    assert [m.text for m in world.assistant.turns[0].unanswered] == [NOT_HEARD]
    dead = (await world.runner.list(PageRequest(), status=JobStatus.DEAD)).items
    assert [(j.kind, j.attempts) for j in dead] == [("conversations.understand", 1)]


async def test_a_voice_note_that_cannot_be_fetched_is_answered_without_waiting(
    world: World,
) -> None:
    stored = await world.pipeline.ingest(
        whatsapp(None, type=MessageType.AUDIO, media=voice_note("gone"))
    )
    assert stored is not None

    await _answer(world)

    assert [m.text for m in world.assistant.turns[0].unanswered] == [NOT_HEARD]
    assert await _dead_jobs(world) == ["conversations.media"]


async def test_a_photo_the_engine_cannot_read_is_answered_as_not_seen_without_retrying(
    world: World,
) -> None:
    world.media.serve("photo-2", b"not an image at all", "image/jpeg")
    await world.receive(
        whatsapp("mire", type=MessageType.IMAGE, media=MediaRef("photo-2", "image/jpeg"))
    )

    await _answer(world)
    await world.run_jobs(after=RETRY_AFTER)

    assert [m.text for m in world.assistant.turns[0].unanswered] == [f"{NOT_SEEN} mire"]
    counts = await world.runner.counts()
    assert (counts[JobStatus.PENDING], counts[JobStatus.DEAD]) == (0, 0)
    kinds = {j.kind for j in (await world.runner.list(PageRequest())).items}
    assert "conversations.understand" not in kinds


async def test_a_voice_note_to_a_conversation_agents_hold_is_transcribed_but_not_answered(
    world: World,
) -> None:
    first = await world.pipeline.ingest(whatsapp("hola"))
    assert first is not None
    await world.desk.hand_off(first.conversation_id, assignee_id="agent-1")
    stored = await _receive_voice(world)

    await _answer(world)

    assert world.assistant.turns == []
    assert (await _stored(world, stored.id)).understanding is Understanding.UNDERSTOOD
