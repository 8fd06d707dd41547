"""Calls as conversations: the caller is a contact by number, what the caller said and
heard are the messages, the greeting comes from the definition of the calls' assistant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial

import pytest

from adapters.assistant.greetings import DefinitionCallGreetings
from adapters.memory.database import InMemoryDatabase
from adapters.memory.unit_of_work import InMemoryUnitOfWork
from adapters.memory.voice import FakeCallGreetings, FakeCallTransfers
from talia_core.assistants.definition import Assistant, Definition
from talia_core.conversations.calls import VoiceCalls, sentences
from talia_core.conversations.ports import AssistantReply, AssistantTurn, Drafting
from talia_core.conversations.received import MESSAGE_RECEIVED
from talia_core.conversations.vocabulary import Channel, ChannelIdentity, IdentityKind
from talia_core.shared.clock import FakeClock

ANA = "+51987654321"


class EchoAssistant:
    def __init__(self) -> None:
        self.turns: list[AssistantTurn] = []

    async def respond(
        self, turn: AssistantTurn, *, drafting: Drafting | None = None
    ) -> AssistantReply:
        self.turns.append(turn)
        return AssistantReply((f"Entendí: {turn.unanswered[-1].text}. ¿Algo más?",))


class TickingClock(FakeClock):
    """A second passes each time it is read: messages are ordered by when they were made."""

    def now(self) -> datetime:
        self.advance(timedelta(seconds=1))
        return super().now()


@pytest.fixture
def database() -> InMemoryDatabase:
    return InMemoryDatabase()


@pytest.fixture
def assistant() -> EchoAssistant:
    return EchoAssistant()


@pytest.fixture
def calls(database: InMemoryDatabase, assistant: EchoAssistant) -> VoiceCalls:
    return VoiceCalls(
        partial(InMemoryUnitOfWork, database),
        TickingClock(),
        assistant=assistant,
        transfers=FakeCallTransfers(),
        greetings=FakeCallGreetings("Hola."),
    )


async def test_each_call_of_a_number_is_a_conversation_of_the_same_contact(
    calls: VoiceCalls, database: InMemoryDatabase
) -> None:
    first = await calls.connect("CA1", ANA)
    second = await calls.connect("CA2", ANA)

    assert first.contact_id == second.contact_id
    assert first.conversation_id != second.conversation_id
    assert first.greeting == "Hola."
    async with InMemoryUnitOfWork(database, read_only=True) as uow:
        [contact] = await uow.contacts.by_identities([ChannelIdentity(IdentityKind.PHONE, ANA)])
        conversation = await uow.conversations.get(first.conversation_id)
    assert contact.phone == ANA
    assert (conversation.channel, conversation.thread) == (Channel.VOICE, "CA1")


async def test_the_assistant_answers_what_was_said_and_only_what_was_heard_is_kept(
    calls: VoiceCalls, assistant: EchoAssistant, database: InMemoryDatabase
) -> None:
    call = await calls.connect("CA1", ANA)
    await calls.heard(call, "Hola.", None)

    reply = await calls.answer(call, "quiero una cita")
    await calls.heard(call, reply.sentences[0], None)
    await calls.answer(call, "el lunes")

    assert reply.sentences == ("Entendí: quiero una cita.", "¿Algo más?")
    [_, second] = assistant.turns
    assert [(m.author, m.text) for m in second.history] == [
        ("bot", "Hola."),
        ("contact", "quiero una cita"),
        ("bot", "Entendí: quiero una cita."),
    ]
    assert [m.text for m in second.unanswered] == ["el lunes"]
    assert second.channel == "voice"


async def test_what_a_caller_says_is_a_message_received_for_the_other_contexts(
    calls: VoiceCalls, database: InMemoryDatabase
) -> None:
    call = await calls.connect("CA1", ANA)

    await calls.answer(call, "quiero una cita")

    [event] = [e for e in database.committed.outbox if e.name == MESSAGE_RECEIVED]
    assert event.data["channel"] == "voice"
    assert event.data["text"] == "quiero una cita"
    assert (event.data["contact_id"], event.data["conversation_id"]) == (
        call.contact_id,
        call.conversation_id,
    )


async def test_nothing_heard_stores_nothing(calls: VoiceCalls, database: InMemoryDatabase) -> None:
    call = await calls.connect("CA1", ANA)

    await calls.heard(call, "  ", None)

    async with InMemoryUnitOfWork(database, read_only=True) as uow:
        assert await uow.messages.history(call.conversation_id, 10) == []


def test_an_answer_is_spoken_sentence_by_sentence() -> None:
    texts = ("Hola. ¿Cómo está?  Tenemos planes… Desde cien soles!", "", "Gracias")

    assert list(sentences(texts)) == [
        "Hola.",
        "¿Cómo está?",
        "Tenemos planes…",
        "Desde cien soles!",
        "Gracias",
    ]


async def test_the_greeting_is_the_calls_assistant_s_greeting_variable(
    database: InMemoryDatabase,
) -> None:
    greetings = DefinitionCallGreetings(partial(InMemoryUnitOfWork, database), otherwise="Hola.")
    assert await greetings.greeting() == "Hola."
    definition = Definition(
        provider="offline",
        model="rules",
        instructions="Atiende llamadas.",
        channels=("voice",),
        variables={"greeting": "Bodas Talia, buenos días."},
    )
    at = datetime(2026, 1, 1, tzinfo=UTC)
    async with InMemoryUnitOfWork(database) as uow:
        await uow.assistants.add(
            Assistant.create(name="telefono", definition=definition, by="u", at=at)
        )
        await uow.commit()

    assert await greetings.greeting() == "Bodas Talia, buenos días."


async def test_a_stream_opened_again_for_an_ended_call_gets_a_conversation_of_its_own(
    calls: VoiceCalls,
) -> None:
    first = await calls.connect("CA1", ANA)
    await calls.hang_up(first)

    again = await calls.connect("CA1", ANA)
    await calls.answer(again, "hola")

    assert again.conversation_id != first.conversation_id
