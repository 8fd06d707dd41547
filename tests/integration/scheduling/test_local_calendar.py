"""The local calendar passes the calendar contract on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.scheduling.calendar import SqlAlchemyCalendar
from talia_core.scheduling.model import TimeRange
from talia_core.shared.clock import SystemClock
from tests.contracts.scheduling.calendar_contract import Block, CalendarContract


class SqlAlchemyCalendarTests(CalendarContract):
    @pytest.fixture
    def calendar(self, engine: AsyncEngine) -> SqlAlchemyCalendar:
        return SqlAlchemyCalendar(engine, SystemClock())

    @pytest.fixture
    def calendar_id(self) -> str:
        return "front-desk"

    @pytest.fixture
    def other_calendar_id(self) -> str:
        return "back-office"

    @pytest.fixture
    def block(self, calendar: SqlAlchemyCalendar) -> Block:
        async def block(calendar_id: str, busy: TimeRange) -> None:
            await calendar.block(calendar_id, busy, "Almuerzo")

        return block
