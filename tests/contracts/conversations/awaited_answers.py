"""The contract every ``AwaitedAnswers`` passes: scheduling's ``ReminderAnswers`` and the fake.

Subclass ``AwaitedAnswersContract`` and provide the ``harness`` fixture: its ``answers``, a
way to make something await a contact's answer, and a text that answers it.
"""

from __future__ import annotations

from typing import Protocol

from talia_core.conversations.ports import AwaitedAnswers

NO_ANSWER = "¿a qué hora era?"


class AwaitedAnswersHarness(Protocol):
    @property
    def answers(self) -> AwaitedAnswers: ...

    @property
    def answer_text(self) -> str:
        """What a contact writes to answer what awaits them."""
        ...

    async def contact(self) -> str:
        """A new contact's id; nothing awaits their answer yet."""
        ...

    async def awaiting(self, contact_id: str) -> None:
        """Something now awaits the contact's answer (their appointment was reminded)."""
        ...


class AwaitedAnswersContract:
    async def test_nothing_awaited_leaves_the_message_to_the_assistant(
        self, harness: AwaitedAnswersHarness
    ) -> None:
        contact = await harness.contact()

        assert await harness.answers.answer(contact, harness.answer_text) is None

    async def test_an_awaited_answer_is_acknowledged_once(
        self, harness: AwaitedAnswersHarness
    ) -> None:
        contact = await harness.contact()
        await harness.awaiting(contact)

        first = await harness.answers.answer(contact, harness.answer_text)
        again = await harness.answers.answer(contact, harness.answer_text)

        assert isinstance(first, str)
        assert first.strip()
        assert again is None

    async def test_a_message_that_is_no_answer_leaves_the_wait_as_it_was(
        self, harness: AwaitedAnswersHarness
    ) -> None:
        contact = await harness.contact()
        await harness.awaiting(contact)

        other = await harness.answers.answer(contact, NO_ANSWER)
        answered = await harness.answers.answer(contact, harness.answer_text)

        assert other is None
        assert answered is not None

    async def test_another_contacts_answer_settles_nothing(
        self, harness: AwaitedAnswersHarness
    ) -> None:
        awaited, stranger = await harness.contact(), await harness.contact()
        await harness.awaiting(awaited)

        assert await harness.answers.answer(stranger, harness.answer_text) is None
        assert await harness.answers.answer(awaited, harness.answer_text) is not None
