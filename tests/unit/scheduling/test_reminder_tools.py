"""``confirm_appointment``: a model confirms the customer's own appointment, never anyone
else's."""

from __future__ import annotations

from functools import partial

import pytest

from adapters.memory.database import InMemoryDatabase
from adapters.memory.scheduling import InMemoryCalendar
from adapters.memory.unit_of_work import InMemoryUnitOfWork
from adapters.tools.book_appointment import BookAppointment
from adapters.tools.cancel_appointment import CancelAppointment
from adapters.tools.check_availability import CheckAvailability
from adapters.tools.confirm_appointment import ConfirmAppointment
from talia_core.assistants.tools import ToolCatalogue
from talia_core.conversations.contact_book import ContactBook
from talia_core.conversations.desk import AgentDesk
from talia_core.scheduling.model import AppointmentStatus
from talia_core.scheduling.services import SchedulingService
from talia_core.shared.clock import FakeClock
from tests.unit.scheduling.builders import NOW, lima_rules
from tests.unit.scheduling.test_slots import lima
from tests.unit.scheduling.test_tools import Desk


@pytest.fixture
def desk() -> Desk:
    database = InMemoryDatabase()
    uow = partial(InMemoryUnitOfWork, database)
    scheduling = SchedulingService(uow, InMemoryCalendar(), lima_rules(), FakeClock(NOW))
    catalogue = ToolCatalogue(
        [
            CheckAvailability(scheduling),
            BookAppointment(
                scheduling, ContactBook(uow, FakeClock(NOW)), AgentDesk(uow, FakeClock(NOW))
            ),
            CancelAppointment(scheduling),
            ConfirmAppointment(scheduling),
        ]
    )
    return Desk(scheduling, catalogue, database)


async def test_without_an_id_the_only_upcoming_appointment_is_confirmed(desk: Desk) -> None:
    context = await desk.contact()
    booked = await desk.call("book_appointment", context, starts_at=lima(3, 10).isoformat())

    confirmed = await desk.call("confirm_appointment", context)

    assert confirmed == {
        "confirmed": True,
        "appointment_id": booked["appointment_id"],
        "when": "martes 3 de marzo, 10:00",
    }
    stored = await desk.scheduling.get(booked["appointment_id"])
    assert stored.status is AppointmentStatus.CONFIRMED


async def test_with_several_upcoming_appointments_the_model_is_told_to_ask_which(
    desk: Desk,
) -> None:
    context = await desk.contact()
    for day in (3, 4):
        await desk.call("book_appointment", context, starts_at=lima(day, 10).isoformat())

    answer = await desk.call("confirm_appointment", context)

    assert answer["confirmed"] is False
    assert len(answer["appointments"]) == 2


async def test_someone_elses_appointment_cannot_be_confirmed(desk: Desk) -> None:
    owner, stranger = await desk.contact("Ana"), await desk.contact("Luis")
    theirs = await desk.call("book_appointment", owner, starts_at=lima(3, 10).isoformat())

    answer = await desk.call(
        "confirm_appointment", stranger, appointment_id=theirs["appointment_id"]
    )

    assert "error" in answer
    kept = await desk.scheduling.get(theirs["appointment_id"])
    assert kept.status is AppointmentStatus.BOOKED


async def test_a_cancelled_appointment_is_not_confirmed(desk: Desk) -> None:
    context = await desk.contact()
    booked = await desk.call("book_appointment", context, starts_at=lima(3, 10).isoformat())
    await desk.call("cancel_appointment", context)

    answer = await desk.call(
        "confirm_appointment", context, appointment_id=booked["appointment_id"]
    )

    assert "error" in answer
    kept = await desk.scheduling.get(booked["appointment_id"])
    assert kept.status is AppointmentStatus.CANCELLED
