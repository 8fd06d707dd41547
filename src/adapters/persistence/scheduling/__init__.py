"""Scheduling's tables and repositories, bound by one bundle: appointments (``appointments``)
and the local calendar's events with the claims that make double booking impossible
(``events``). The local calendar itself is ``calendar.SqlAlchemyCalendar``."""

from __future__ import annotations

from adapters.persistence.bundle import RepositoryBundle, bound
from adapters.persistence.scheduling.appointments import SqlAlchemyAppointmentRepository
from adapters.persistence.scheduling.events import SqlAlchemyCalendarEventRepository


class SchedulingRepositories(RepositoryBundle):
    appointments = bound(SqlAlchemyAppointmentRepository, locks=True)
    calendar_events = bound(SqlAlchemyCalendarEventRepository)
