"""The appointments the leads follow, read through the scheduling context's storage."""

from __future__ import annotations

from talia_core.leads.ports import Booking
from talia_core.scheduling.model import AppointmentStatus
from talia_core.scheduling.ports import SchedulingUnitOfWork
from talia_core.shared.clock import Clock
from talia_core.shared.errors import NotFound
from talia_core.shared.pagination import PageRequest
from talia_core.shared.ports import UnitOfWorkFactory


class AppointmentBookings:
    def __init__(self, uow: UnitOfWorkFactory[SchedulingUnitOfWork], clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def of_appointment(self, appointment_id: str) -> Booking | None:
        async with self._uow(read_only=True) as uow:
            try:
                appointment = await uow.appointments.get(appointment_id)
            except NotFound:
                return None
        return Booking(appointment.id, appointment.contact_id, appointment.channel)

    async def any_to_come(self, contact_id: str) -> bool:
        now = self._clock.now()
        async with self._uow(read_only=True) as uow:
            for status in (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED):
                found = await uow.appointments.find(
                    PageRequest(limit=1), starts_from=now, status=status, contact_id=contact_id
                )
                if found.total:
                    return True
        return False
