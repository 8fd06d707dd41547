"""The appointment repository: rows mapped one to one onto ``Appointment``."""

from __future__ import annotations

from datetime import datetime
from functools import partial

from adapters.persistence.connection import Transaction, locked
from adapters.persistence.mapping import as_row, from_row
from adapters.persistence.scheduling.tables import appointments
from talia_core.scheduling.model import Appointment, AppointmentStatus
from talia_core.shared.errors import NotFound
from talia_core.shared.pagination import Page, PageRequest


class SqlAlchemyAppointmentRepository:
    def __init__(self, tx: Transaction, *, lock: bool) -> None:
        self._tx = tx
        self._lock = lock

    async def add(self, appointment: Appointment) -> None:
        await self._tx.execute(appointments.insert().values(as_row(appointment)))

    async def get(self, appointment_id: str) -> Appointment:
        query = appointments.select().where(appointments.c.id == appointment_id)
        row = await self._tx.one_or_none(locked(query, self._lock))
        if row is None:
            raise NotFound("appointment", appointment_id)
        return from_row(Appointment, row._mapping)

    async def update(self, appointment: Appointment) -> None:
        values = as_row(appointment)
        del values["id"]
        await self._tx.execute(
            appointments.update().where(appointments.c.id == appointment.id).values(values)
        )

    async def find(
        self,
        page: PageRequest,
        *,
        starts_from: datetime | None = None,
        starts_before: datetime | None = None,
        status: AppointmentStatus | None = None,
        contact_id: str | None = None,
    ) -> Page[Appointment]:
        query = appointments.select()
        if starts_from is not None:
            query = query.where(appointments.c.starts_at >= starts_from)
        if starts_before is not None:
            query = query.where(appointments.c.starts_at < starts_before)
        if status is not None:
            query = query.where(appointments.c.status == status.value)
        if contact_id is not None:
            query = query.where(appointments.c.contact_id == contact_id)
        order = [appointments.c.starts_at, appointments.c.id]
        return await self._tx.page(query, page, order, partial(from_row, Appointment))
