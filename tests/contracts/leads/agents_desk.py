"""The contract every ``AgentsDesk`` passes: the fake, and Chatwoot over HTTP against a local
server speaking its application API.

How to add a desk: write a harness (any object with the attributes and methods of
``DeskHarness``) over your adapter and the desk it talks to, then subclass
``AgentsDeskContract`` in a class whose name ends in ``Tests`` with a ``harness`` fixture.
``tests/unit/leads/test_fake_agents_desk.py`` and
``tests/integration/channels/test_chatwoot_desk.py`` are the two examples.
"""

from __future__ import annotations

from typing import Protocol

from talia_core.leads.ports import AgentsDesk

NOTE = "Lead calificado: 60 puntos (bodas)\n- guest_count: 120\n- plan: premium 💍"


class DeskHarness(Protocol):
    @property
    def desk(self) -> AgentsDesk: ...

    async def open_conversation(self, contact_id: str, labels: list[str]) -> None:
        """Give the contact a conversation on the desk, already carrying ``labels``."""
        ...

    def labels(self, contact_id: str) -> list[str]:
        """The labels of the contact's conversation, as the desk holds them."""
        ...

    def notes(self, contact_id: str) -> list[str]:
        """The private notes left in the contact's conversation, in order."""
        ...


class AgentsDeskContract:
    async def test_a_label_joins_the_ones_the_conversation_has_once(
        self, harness: DeskHarness
    ) -> None:
        await harness.open_conversation("contact-1", ["vip"])

        assert await harness.desk.label("contact-1", "lead-calificado")
        assert await harness.desk.label("contact-1", "lead-calificado")

        assert harness.labels("contact-1") == ["vip", "lead-calificado"]

    async def test_a_note_is_left_for_the_agents_as_written(self, harness: DeskHarness) -> None:
        await harness.open_conversation("contact-1", [])

        assert await harness.desk.note("contact-1", NOTE)

        assert harness.notes("contact-1") == [NOTE]

    async def test_a_contact_with_no_conversation_on_the_desk_is_left_alone(
        self, harness: DeskHarness
    ) -> None:
        await harness.open_conversation("contact-1", [])

        assert not await harness.desk.label("contact-2", "lead-calificado")
        assert not await harness.desk.note("contact-2", NOTE)

        assert (harness.labels("contact-1"), harness.notes("contact-1")) == ([], [])
