"""The demo shop's lead criteria, and a world of leads over one in-memory database with an
assistant that holds them."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import attrs

from adapters.memory.database import InMemoryDatabase
from adapters.memory.unit_of_work import InMemoryUnitOfWork
from adapters.persistence.leads.criteria import DefinitionLeadCriteria
from talia_core.assistants.definition import Assistant, Channel, Definition
from talia_core.leads.criteria import Criteria, parse_criteria
from talia_core.leads.services import LeadBook
from talia_core.shared.clock import FakeClock

CRITERIA: dict[str, Any] = {
    "business_line": "bodas",
    "qualified_at": 60,
    "facts": [
        {
            "name": "wedding_date",
            "kind": "date",
            "weight": 20,
            "near": ["boda", "matrimonio", "casamos", "caso", "evento", "fecha"],
        },
        {
            "name": "guest_count",
            "kind": "count",
            "weight": 20,
            "min": 10,
            "near": ["invitados", "personas", "asistentes"],
        },
        {"name": "budget", "kind": "money", "weight": 25, "min": 4900, "required": True},
        {
            "name": "plan",
            "kind": "choice",
            "weight": 20,
            "choices": {
                "essential": ["essential", "esencial", "basico"],
                "celebration": ["celebration", "celebracion"],
                "premium": ["premium"],
            },
        },
        {
            "name": "decision_maker",
            "kind": "choice",
            "weight": 15,
            "choices": {
                "pareja": ["mi pareja", "los dos", "ambos", "mi novio", "mi novia"],
                "cliente": ["yo decido", "decido yo"],
            },
        },
    ],
}
DEMO: Criteria = parse_criteria(CRITERIA)
T0 = datetime(2026, 12, 6, 15, 0, tzinfo=UTC)
LIMA = ZoneInfo("America/Lima")


@attrs.define
class World:
    database: InMemoryDatabase
    clock: FakeClock
    book: LeadBook

    def uow(self) -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork(self.database)

    async def assistant(
        self,
        name: str,
        *,
        provider: str = "offline",
        channels: tuple[str, ...] = (),
        leads: dict[str, Any] | None = CRITERIA,
    ) -> None:
        definition = Definition(
            provider=provider,
            model="rules",
            instructions="Atiende a los novios.",
            channels=channels,
            leads=leads,
        )
        assistant = Assistant.create(name=name, definition=definition, by="admin", at=T0)
        async with self.uow() as uow:
            await uow.assistants.add(assistant)
            await uow.commit()


def world() -> World:
    database, clock = InMemoryDatabase(), FakeClock(T0)
    uow = partial(InMemoryUnitOfWork, database)
    book = LeadBook(uow, clock, DefinitionLeadCriteria(uow), zone=LIMA)
    return World(database, clock, book)


WEBCHAT = Channel.WEBCHAT.value
