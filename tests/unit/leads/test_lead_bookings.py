"""Leads follow their contacts' appointments: the scheduling use case books and cancels over
the same in-memory database, and the leads read the appointments back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.memory.scheduling import InMemoryCalendar
from adapters.memory.unit_of_work import InMemoryUnitOfWork
from adapters.persistence.leads.bookings import AppointmentBookings
from adapters.persistence.leads.criteria import DefinitionLeadCriteria
from talia_core.leads.bookings import LeadBookings
from talia_core.leads.model import Cause, ChangeKind
from talia_core.leads.ports import LeadFilter
from talia_core.leads.services import QUALIFIED_EVENT
from talia_core.leads.stages import Stage
from talia_core.scheduling.services import SchedulingService
from talia_core.shared.ids import new_id
from talia_core.shared.pagination import PageRequest
from tests.unit.leads.builders import WEBCHAT, World, world
from tests.unit.scheduling.builders import lima_rules

EVERYTHING = PageRequest(limit=200)
MONDAY_10 = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
"""Monday 7 December 2026, 10:00 in Lima: the day after the world's clock."""
QUALIFYING_TEXT = "Nos casamos el 14 de febrero, seremos unos 120 invitados. Nos gusta el premium"


@attrs.define
class Booked:
    world: World
    scheduling: SchedulingService
    leads: LeadBookings

    async def book(self, contact_id: str | None, at: datetime = MONDAY_10) -> str:
        appointment = await self.scheduling.book(
            starts_at=at, contact_id=contact_id, channel=WEBCHAT, booked_by="assistant:recepcion"
        )
        return appointment.id

    def qualified_events(self) -> list[str]:
        outbox = self.world.database.committed.outbox
        return [e.id for e in outbox if e.name == QUALIFIED_EVENT]


@pytest.fixture
async def booked() -> Booked:
    return await a_booked_world()


async def a_booked_world() -> Booked:
    opened = world()
    await opened.assistant("recepcion", channels=(WEBCHAT,))
    uow = partial(InMemoryUnitOfWork, opened.database)
    scheduling = SchedulingService(
        uow, InMemoryCalendar(), lima_rules(horizon_days=60), opened.clock
    )
    leads = LeadBookings(
        uow, opened.clock, DefinitionLeadCriteria(uow), AppointmentBookings(uow, opened.clock)
    )
    return Booked(opened, scheduling, leads)


async def test_a_booking_opens_the_contacts_lead_and_books_it_with_its_cause(
    booked: Booked,
) -> None:
    appointment_id = await booked.book("contact-1")

    lead = await booked.leads.appointment_changed(new_id(), appointment_id)

    assert lead is not None
    assert (lead.contact_id, lead.business_line, lead.stage) == ("contact-1", "bodas", Stage.BOOKED)
    history = (await booked.world.book.history(lead.id, EVERYTHING)).items
    assert [(c.kind, c.after) for c in history] == [
        (ChangeKind.CREATED, "new"),
        (ChangeKind.STAGE, "booked"),
    ]
    moved = history[-1]
    assert (moved.cause, moved.by, moved.reason) == (
        Cause.APPOINTMENT,
        f"appointment:{appointment_id}",
        "an appointment was booked",
    )


async def test_a_qualified_lead_is_booked_and_a_booking_delivered_again_changes_nothing(
    booked: Booked,
) -> None:
    qualified = await booked.world.book.contact_wrote(
        new_id(), "contact-1", WEBCHAT, booked.world.clock.now(), QUALIFYING_TEXT
    )
    assert qualified is not None
    assert qualified.stage is Stage.QUALIFIED
    appointment_id = await booked.book("contact-1")
    event = new_id()

    lead = await booked.leads.appointment_changed(event, appointment_id)
    again = await booked.leads.appointment_changed(event, appointment_id)

    assert lead is not None
    assert lead.id == qualified.id
    assert lead.stage is Stage.BOOKED
    assert again is None
    history = (await booked.world.book.history(lead.id, EVERYTHING)).items
    assert [c.after for c in history if c.kind is ChangeKind.STAGE] == ["qualified", "booked"]


async def test_cancelling_the_appointment_moves_the_lead_back_to_qualified_without_news(
    booked: Booked,
) -> None:
    await booked.world.book.contact_wrote(
        new_id(), "contact-1", WEBCHAT, booked.world.clock.now(), QUALIFYING_TEXT
    )
    appointment_id = await booked.book("contact-1")
    await booked.leads.appointment_changed(new_id(), appointment_id)
    news = booked.qualified_events()

    await booked.scheduling.cancel(appointment_id, by="contact-1")
    lead = await booked.leads.appointment_changed(new_id(), appointment_id)

    assert lead is not None
    assert lead.stage is Stage.QUALIFIED
    history = (await booked.world.book.history(lead.id, EVERYTHING)).items
    back = history[-1]
    assert (back.before, back.after, back.cause, back.reason) == (
        "booked",
        "qualified",
        Cause.APPOINTMENT,
        "the appointment was cancelled",
    )
    assert booked.qualified_events() == news


@pytest.mark.parametrize("cancel_first", [True, False])
async def test_a_rescheduled_appointment_keeps_the_lead_booked_whatever_the_order(
    booked: Booked, cancel_first: bool
) -> None:
    old = await booked.book("contact-1")
    await booked.leads.appointment_changed(new_id(), old)
    new = await booked.book("contact-1", MONDAY_10 + timedelta(days=1))
    await booked.scheduling.cancel(old, by="contact-1")
    events = [(new_id(), new), (new_id(), old)]

    for event, appointment_id in reversed(events) if cancel_first else events:
        await booked.leads.appointment_changed(event, appointment_id)

    [lead] = (await booked.world.book.list(EVERYTHING, LeadFilter())).items
    assert lead.stage is Stage.BOOKED


async def test_a_booking_made_after_its_cancellation_was_handled_leaves_the_lead_alone(
    booked: Booked,
) -> None:
    appointment_id = await booked.book("contact-1")
    await booked.scheduling.cancel(appointment_id, by="agent")

    lead = await booked.leads.appointment_changed(new_id(), appointment_id)

    assert lead is not None
    assert lead.stage is Stage.NEW


async def test_an_appointment_of_no_contact_or_unknown_opens_no_lead(booked: Booked) -> None:
    walk_in = await booked.book(None)

    assert await booked.leads.appointment_changed(new_id(), walk_in) is None
    assert await booked.leads.appointment_changed(new_id(), new_id()) is None
    assert (await booked.world.book.list(EVERYTHING, LeadFilter())).total == 0


async def test_a_won_lead_stays_won_when_its_contact_books_again(booked: Booked) -> None:
    first = await booked.book("contact-1")
    lead = await booked.leads.appointment_changed(new_id(), first)
    assert lead is not None
    await booked.world.book.revise(lead.id, by="agent-1", stage=Stage.WON, reason="firmó")
    second = await booked.book("contact-1", MONDAY_10 + timedelta(days=2))

    again = await booked.leads.appointment_changed(new_id(), second)

    assert again is not None
    assert again.stage is Stage.WON


steps = st.lists(
    st.one_of(
        st.just(("book", 0)),
        st.tuples(st.just("cancel"), st.integers(0, 9)),
        st.tuples(st.just("handle"), st.integers(0, 9)),
    ),
    max_size=12,
)


@settings(max_examples=60, deadline=None)
@given(steps=steps)
async def test_once_every_event_is_handled_the_lead_is_booked_exactly_while_one_is_to_come(
    steps: list[tuple[str, int]],
) -> None:
    booked = await a_booked_world()
    active: list[str] = []
    pending: list[tuple[str, str]] = []
    handled: list[tuple[str, str]] = []
    slots = (MONDAY_10 + timedelta(minutes=30 * n) for n in range(len(steps)))
    for action, number in steps:
        if action == "book":
            appointment_id = await booked.book("contact-1", next(slots))
            active.append(appointment_id)
            pending.append((new_id(), appointment_id))
        elif action == "cancel" and active:
            appointment_id = active.pop(number % len(active))
            await booked.scheduling.cancel(appointment_id, by="contact-1")
            pending.append((new_id(), appointment_id))
        elif action == "handle" and pending:
            event = pending.pop(number % len(pending))
            await booked.leads.appointment_changed(*event)
            handled.append(event)
    for event in [*pending, *handled]:
        await booked.leads.appointment_changed(*event)

    leads = (await booked.world.book.list(EVERYTHING, LeadFilter())).items
    stages = {lead.stage for lead in leads}
    if active:
        assert stages == {Stage.BOOKED}
    else:
        assert stages <= {Stage.NEW, Stage.QUALIFIED}
    assert booked.qualified_events() == []
