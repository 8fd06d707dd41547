"""Qualified leads pointed out on the agents' desk (the fake desk), once per lead and event."""

from __future__ import annotations

from functools import partial

import pytest

from adapters.memory.desk import FakeAgentsDesk
from adapters.memory.unit_of_work import InMemoryUnitOfWork
from adapters.persistence.leads.criteria import DefinitionLeadCriteria
from talia_core.leads.desk import DeskAnnouncements
from talia_core.leads.model import Lead
from talia_core.shared.errors import ExternalServiceUnavailable
from talia_core.shared.ids import new_id
from tests.unit.leads.builders import World, world

CHATWOOT = "chatwoot"
LABEL = "lead-calificado"
WORDS = "Nos casamos el 14 de febrero, unos 120 invitados, plan premium, tenemos S/ 5,000"


class FlakyDesk(FakeAgentsDesk):
    """A desk whose next note fails, as a Chatwoot that does not answer."""

    def __init__(self) -> None:
        super().__init__()
        self.failures = 0

    async def note(self, contact_id: str, text: str) -> bool:
        if self.failures:
            self.failures -= 1
            raise ExternalServiceUnavailable("chatwoot", "noting timed out")
        return await super().note(contact_id, text)


async def qualified(leads: World, contact_id: str = "contact-1") -> Lead:
    lead = await leads.book.contact_wrote(new_id(), contact_id, CHATWOOT, leads.clock.now(), WORDS)
    assert lead is not None
    return lead


@pytest.fixture
async def leads() -> World:
    opened = world()
    await opened.assistant("recepcion", channels=(CHATWOOT,))
    return opened


def announcements(leads: World, desk: FakeAgentsDesk) -> DeskAnnouncements:
    uow = partial(InMemoryUnitOfWork, leads.database)
    return DeskAnnouncements(uow, leads.clock, DefinitionLeadCriteria(uow), desk, label=LABEL)


async def test_a_qualified_lead_is_labelled_and_summed_up_once_per_event(leads: World) -> None:
    desk = FakeAgentsDesk()
    desk.open_conversation("contact-1")
    lead = await qualified(leads)
    event = new_id()

    first = await announcements(leads, desk).qualified(event, lead.id)
    again = await announcements(leads, desk).qualified(event, lead.id)

    assert (first, again) == (True, False)
    assert desk.labels["contact-1"] == [LABEL]
    assert desk.notes["contact-1"] == [
        "Lead calificado: 85 puntos (bodas)\n"
        "- wedding_date: 2027-02-14\n"
        "- guest_count: 120\n"
        "- budget: S/ 5,000.00\n"
        "- plan: premium"
    ]


async def test_a_contact_with_no_conversation_on_the_desk_gets_nothing(leads: World) -> None:
    desk = FakeAgentsDesk()
    lead = await qualified(leads)

    assert not await announcements(leads, desk).qualified(new_id(), lead.id)

    assert (desk.labels, desk.notes) == ({}, {})


async def test_a_note_that_failed_is_left_on_the_retry_and_the_label_is_not_doubled(
    leads: World,
) -> None:
    desk = FlakyDesk()
    desk.open_conversation("contact-1")
    desk.failures = 1
    lead = await qualified(leads)
    event = new_id()

    with pytest.raises(ExternalServiceUnavailable):
        await announcements(leads, desk).qualified(event, lead.id)
    assert await announcements(leads, desk).qualified(event, lead.id)

    assert desk.labels["contact-1"] == [LABEL]
    assert len(desk.notes["contact-1"]) == 1
