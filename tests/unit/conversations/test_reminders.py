"""Answers another context awaits are taken before the assistant: the acknowledgement is the
reply; any other message is the assistant's as usual. The fake ``AwaitedAnswers`` passes
the contract ``ReminderAnswers`` passes."""

from __future__ import annotations

from functools import partial

import attrs
import pytest

from adapters.memory.answers import FakeAwaitedAnswers
from adapters.memory.channels import FakeMediaDownloader
from adapters.memory.unit_of_work import InMemoryUnitOfWork
from talia_core.conversations.pipeline import ConversationPipeline
from talia_core.conversations.vocabulary import Author, Channel
from talia_core.shared.ids import new_id
from tests.contracts.conversations.awaited_answers import AwaitedAnswersContract
from tests.unit.conversations.conftest import World, whatsapp


def answering(world: World, answers: FakeAwaitedAnswers) -> ConversationPipeline:
    """The world's pipeline, asking ``answers`` first."""
    return ConversationPipeline(
        partial(InMemoryUnitOfWork, world.database),
        world.clock,
        senders=world.senders,
        downloaders=dict.fromkeys(Channel, FakeMediaDownloader()),
        files=world.files,
        assistant=world.assistant,
        live=world.feed,
        answers=answers,
    )


async def contact_of(world: World, conversation_id: str) -> str:
    async with world.uow(read_only=True) as uow:
        return (await uow.conversations.get(conversation_id)).contact_id


async def test_an_awaited_answer_is_acknowledged_and_the_assistant_is_not_asked(
    world: World,
) -> None:
    answers = FakeAwaitedAnswers()
    pipeline = answering(world, answers)
    first = await pipeline.ingest(whatsapp("hola"))
    assert first is not None
    await pipeline.take_assistant_turn(first.conversation_id)
    contact_id = await contact_of(world, first.conversation_id)
    answers.await_answer(contact_id, {"sí": "¡Gracias! Tu cita quedó confirmada."})

    await pipeline.ingest(whatsapp("sí"))
    [reply] = await pipeline.take_assistant_turn(first.conversation_id)

    assert (reply.author, reply.text) == (Author.BOT, "¡Gracias! Tu cita quedó confirmada.")
    assert [turn.unanswered[-1].text for turn in world.assistant.turns] == ["hola"]
    assert answers.settled == [(contact_id, "sí")]


async def test_a_message_nothing_awaits_goes_to_the_assistant(world: World) -> None:
    answers = FakeAwaitedAnswers()
    pipeline = answering(world, answers)
    message = await pipeline.ingest(whatsapp("sí"))
    assert message is not None

    [reply] = await pipeline.take_assistant_turn(message.conversation_id)

    assert reply.text == "answering: sí"
    assert answers.settled == []


@attrs.define
class FakeHarness:
    answers: FakeAwaitedAnswers = attrs.field(factory=FakeAwaitedAnswers)
    answer_text: str = "sí"

    async def contact(self) -> str:
        return new_id()

    async def awaiting(self, contact_id: str) -> None:
        self.answers.await_answer(contact_id, {self.answer_text: "¡Gracias!"})


class FakeAwaitedAnswersTests(AwaitedAnswersContract):
    @pytest.fixture
    def harness(self) -> FakeHarness:
        return FakeHarness()
