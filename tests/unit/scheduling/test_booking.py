"""Booking, cancelling and confirming appointments through the use case, on fakes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.memory.database import InMemoryDatabase
from talia_core.scheduling.errors import SlotTaken
from talia_core.scheduling.jobs import REMIND_JOB
from talia_core.scheduling.model import AppointmentStatus, TimeRange
from talia_core.shared.errors import Conflict, NotFound, RuleViolated
from talia_core.shared.jobs import Job
from talia_core.shared.pagination import PageRequest
from tests.unit.scheduling.builders import a_service, lima_rules
from tests.unit.scheduling.test_slots import lima


async def test_a_booked_slot_is_recorded_held_in_the_calendar_and_no_longer_offered() -> None:
    service, calendar, database, _ = a_service()

    appointment = await service.book(
        starts_at=lima(3, 10), contact_id="c-1", customer_name="Ana", booked_by="assistant"
    )

    assert appointment.status is AppointmentStatus.BOOKED
    assert appointment.event_id
    assert list(await calendar.busy("front-desk", lima(3, 0), lima(4, 0))) == [
        TimeRange(lima(3, 10), lima(3, 10, 30))
    ]
    offered = await service.availability(lima(3, 9), lima(3, 12))
    assert lima(3, 10) not in {s.start for s in offered}
    assert [e.name for e in database.committed.outbox] == ["appointment.booked"]


async def test_a_taken_slot_is_refused_before_the_calendar_is_asked_to_hold_it() -> None:
    service, _, _, _ = a_service()
    await service.book(starts_at=lima(3, 10), booked_by="a")

    with pytest.raises(SlotTaken):
        await service.book(starts_at=lima(3, 10), booked_by="b")


async def test_a_slot_inside_the_buffer_of_another_is_refused() -> None:
    service, _, _, _ = a_service(lima_rules(buffer_after_minutes=15))
    await service.book(starts_at=lima(3, 10, 30), booked_by="a")

    with pytest.raises(SlotTaken):
        await service.book(starts_at=lima(3, 10), booked_by="b")


async def test_a_slot_outside_the_rules_is_refused_and_nothing_is_kept() -> None:
    service, calendar, database, _ = a_service()

    with pytest.raises(RuleViolated) as refused:
        await service.book(starts_at=lima(3, 20), booked_by="a")

    assert refused.value.fields == {"starts_at": "business_hours"}
    assert list(await calendar.busy("front-desk", lima(3, 0), lima(4, 0))) == []
    assert database.committed.table("appointments") == {}


async def test_cancelling_frees_the_slot_and_cancelling_again_changes_nothing() -> None:
    service, calendar, _, clock = a_service()
    appointment = await service.book(starts_at=lima(3, 10), booked_by="a")
    clock.advance(timedelta(minutes=5))

    cancelled = await service.cancel(appointment.id, by="a")
    again = await service.cancel(appointment.id, by="b")

    assert cancelled.status is AppointmentStatus.CANCELLED
    assert again.cancelled_by == "a"
    assert list(await calendar.busy("front-desk", lima(3, 0), lima(4, 0))) == []


async def test_a_customer_cannot_cancel_someone_elses_appointment() -> None:
    service, _, _, _ = a_service()
    appointment = await service.book(starts_at=lima(3, 10), contact_id="c-1", booked_by="a")

    with pytest.raises(NotFound):
        await service.cancel(appointment.id, by="c-2", contact_id="c-2")

    assert (await service.get(appointment.id)).status is AppointmentStatus.BOOKED


async def test_a_customer_confirms_once_and_a_cancelled_one_cannot_be_confirmed() -> None:
    service, _, _, _ = a_service()
    kept = await service.book(starts_at=lima(3, 10), contact_id="c-1", booked_by="a")
    dropped = await service.book(starts_at=lima(3, 11), contact_id="c-1", booked_by="a")
    await service.cancel(dropped.id, by="a")

    confirmed = await service.confirm(kept.id, contact_id="c-1")

    assert confirmed.status is AppointmentStatus.CONFIRMED
    with pytest.raises(Conflict):
        await service.confirm(dropped.id, contact_id="c-1")


async def test_appointments_are_listed_soonest_first_and_by_contact() -> None:
    service, _, _, _ = a_service()
    later = await service.book(starts_at=lima(4, 10), contact_id="c-1", booked_by="a")
    sooner = await service.book(starts_at=lima(3, 10), contact_id="c-1", booked_by="a")
    await service.book(starts_at=lima(3, 11), contact_id="c-2", booked_by="a")

    page = await service.list_appointments(PageRequest(), contact_id="c-1")

    assert [a.id for a in page.items] == [sooner.id, later.id]
    assert page.total == 2


async def test_availability_over_more_than_two_months_is_refused_naming_the_field() -> None:
    service, _, _, _ = a_service()

    with pytest.raises(RuleViolated) as refused:
        await service.availability(lima(3, 0), lima(3, 0) + timedelta(days=70))

    assert refused.value.fields == {"to": "range_too_long"}


def reminders(database: InMemoryDatabase) -> list[Job]:
    return [j for j in database.committed.table("jobs").values() if j.kind == REMIND_JOB]


async def test_a_booking_records_its_reminder_a_day_before_and_it_announces_the_visit() -> None:
    service, _, database, clock = a_service(reminder_lead=timedelta(days=1))
    appointment = await service.book(starts_at=lima(4, 10), contact_id="c-1", booked_by="a")

    [job] = reminders(database)
    assert job.run_at == lima(3, 10)
    clock.current = job.run_at
    await service.job_handlers()[job.kind](job.payload)

    due = [e for e in database.committed.outbox if e.name == "appointment.reminder_due"]
    assert [e.data["appointment_id"] for e in due] == [appointment.id]
    assert due[0].data["contact_id"] == "c-1"


async def test_a_cancelled_appointment_is_not_announced() -> None:
    service, _, database, clock = a_service(reminder_lead=timedelta(days=1))
    appointment = await service.book(starts_at=lima(4, 10), contact_id="c-1", booked_by="a")
    await service.cancel(appointment.id, by="c-1")
    clock.current = lima(3, 10)

    await service.remind(appointment.id)

    assert "appointment.reminder_due" not in {e.name for e in database.committed.outbox}


async def test_no_reminder_is_recorded_when_its_time_has_passed_or_nobody_is_to_be_told() -> None:
    service, _, database, _ = a_service(reminder_lead=timedelta(days=1))

    await service.book(starts_at=lima(2, 10), contact_id="c-1", booked_by="a")
    await service.book(starts_at=lima(5, 10), booked_by="agent")

    assert reminders(database) == []
