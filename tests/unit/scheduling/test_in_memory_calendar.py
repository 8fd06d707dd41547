"""The in-memory calendar passes the calendar contract."""

from __future__ import annotations

import pytest

from adapters.memory.scheduling import InMemoryCalendar
from talia_core.scheduling.model import TimeRange
from tests.contracts.scheduling.calendar_contract import Block, CalendarContract


class InMemoryCalendarTests(CalendarContract):
    @pytest.fixture
    def calendar(self) -> InMemoryCalendar:
        return InMemoryCalendar()

    @pytest.fixture
    def calendar_id(self) -> str:
        return "front-desk"

    @pytest.fixture
    def other_calendar_id(self) -> str:
        return "back-office"

    @pytest.fixture
    def block(self, calendar: InMemoryCalendar) -> Block:
        async def block(calendar_id: str, busy: TimeRange) -> None:
            calendar.block(calendar_id, busy)

        return block
