"""Scheduling's tables and repositories, bound by one bundle: appointments (``appointments``)
and the local calendar's events with the claims that make double booking impossible
(``events``). The local calendar itself is ``calendar.SqlAlchemyCalendar``."""

from __future__ import annotations

from adapters.persistence.bundle import RepositoryBundle
from adapters.persistence.connection import Transaction
from adapters.persistence.scheduling.appointments import SqlAlchemyAppointmentRepository
from adapters.persistence.scheduling.events import SqlAlchemyCalendarEventRepository


class SchedulingRepositories(RepositoryBundle):
    appointments: SqlAlchemyAppointmentRepository
    calendar_events: SqlAlchemyCalendarEventRepository

    def bind(self, tx: Transaction, *, lock: bool) -> None:
        self.appointments = SqlAlchemyAppointmentRepository(tx, lock=lock)
        self.calendar_events = SqlAlchemyCalendarEventRepository(tx)
        super().bind(tx, lock=lock)
