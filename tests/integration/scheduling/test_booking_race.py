"""Customers racing for the same slots through the booking use case, on every database."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from functools import partial

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.scheduling.calendar import SqlAlchemyCalendar
from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWork
from talia_core.scheduling.errors import SlotTaken
from talia_core.scheduling.model import AppointmentStatus
from talia_core.scheduling.services import SchedulingService
from talia_core.shared.clock import FakeClock
from talia_core.shared.pagination import PageRequest
from tests.unit.scheduling.builders import NOW, lima_rules
from tests.unit.scheduling.test_slots import lima


def a_service(engine: AsyncEngine) -> SchedulingService:
    clock = FakeClock(NOW)
    return SchedulingService(
        partial(SqlAlchemyUnitOfWork, engine),
        SqlAlchemyCalendar(engine, clock),
        lima_rules(),
        clock,
    )


async def test_of_twenty_customers_asking_for_one_slot_at_once_exactly_one_books_it(
    engine: AsyncEngine,
) -> None:
    service = a_service(engine)

    results = await asyncio.gather(
        *(
            service.book(starts_at=lima(3, 10), customer_name=f"Cliente {n}", booked_by="test")
            for n in range(20)
        ),
        return_exceptions=True,
    )

    booked = [r for r in results if not isinstance(r, BaseException)]
    assert len(booked) == 1
    assert all(isinstance(r, SlotTaken) for r in results if isinstance(r, BaseException))
    listed = await service.list_appointments(PageRequest(), status=AppointmentStatus.BOOKED)
    assert [a.id for a in listed.items] == [booked[0].id]


async def test_a_longer_appointment_racing_a_short_one_over_the_same_time_leaves_one(
    engine: AsyncEngine,
) -> None:
    service = a_service(engine)

    results = await asyncio.gather(
        service.book(starts_at=lima(3, 10), duration_minutes=90, booked_by="test"),
        service.book(starts_at=lima(3, 11), booked_by="test"),
        return_exceptions=True,
    )

    assert sum(not isinstance(r, BaseException) for r in results) == 1


async def test_a_cancelled_appointment_gives_its_slot_to_the_next_customer(
    engine: AsyncEngine,
) -> None:
    service = a_service(engine)
    first = await service.book(starts_at=lima(3, 10), booked_by="test")

    await service.cancel(first.id, by="test")
    second = await service.book(starts_at=lima(3, 10), booked_by="test")

    assert (await service.get(first.id)).status is AppointmentStatus.CANCELLED
    assert (await service.get(second.id)).status is AppointmentStatus.BOOKED


async def test_fifty_customers_racing_for_ten_slots_book_exactly_ten(engine: AsyncEngine) -> None:
    service = a_service(engine)
    starts = [lima(3, 9) + timedelta(minutes=30 * n) for n in range(10)]

    results = await asyncio.gather(
        *(service.book(starts_at=start, booked_by="test") for start in starts for _ in range(5)),
        return_exceptions=True,
    )

    booked = [r for r in results if not isinstance(r, BaseException)]
    assert sorted(a.starts_at for a in booked) == starts
    assert all(isinstance(r, SlotTaken) for r in results if isinstance(r, BaseException))
