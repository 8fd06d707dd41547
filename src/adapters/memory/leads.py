"""In-memory leads and their history."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from datetime import datetime

from adapters.memory.database import InMemoryRepositoryBundle, InMemoryTable, State, paginate
from talia_core.leads.model import Lead, LeadChange
from talia_core.leads.ports import LeadFilter, LeadOrder
from talia_core.shared.pagination import Page, PageRequest


def _keeps(where: LeadFilter, lead: Lead) -> bool:
    return (
        (where.stage is None or lead.stage is where.stage)
        and (where.min_score is None or lead.score >= where.min_score)
        and (where.owner_id is None or lead.owner_id == where.owner_id)
        and (where.channel is None or lead.channel == where.channel)
        and (where.since is None or lead.last_contact_at >= where.since)
        and (where.until is None or lead.last_contact_at < where.until)
    )


_ORDER: dict[LeadOrder, Callable[[Lead], object]] = {
    LeadOrder.LAST_CONTACT: lambda lead: lead.last_contact_at,
    LeadOrder.FIRST_CONTACT: lambda lead: lead.first_contact_at,
    LeadOrder.SCORE: lambda lead: lead.score,
    LeadOrder.UPDATED: lambda lead: lead.updated_at,
}


class InMemoryLeadRepository(InMemoryTable[Lead]):
    def __init__(self, state: Callable[[], State]) -> None:
        super().__init__(state, "leads", "lead")

    async def add_if_absent(self, lead: Lead) -> bool:
        if await self.of_contact(lead.contact_id, lead.business_line) is not None:
            return False
        await self.add(lead)
        return True

    async def of_contact(self, contact_id: str, business_line: str) -> Lead | None:
        found = self.matching(
            lambda lead: lead.contact_id == contact_id and lead.business_line == business_line
        )
        return found[0] if found else None

    async def first_delivery(self, event_id: str, at: datetime) -> bool:
        applied = self._state().table("lead_events")
        if event_id in applied:
            return False
        applied[event_id] = at
        return True

    async def delivered(self, event_id: str) -> bool:
        return event_id in self._state().table("lead_events")

    async def find(self, page: PageRequest, where: LeadFilter) -> Page[Lead]:
        key = _ORDER[where.order]
        found = self.matching(lambda lead: _keeps(where, lead))
        return paginate(found, page, key=lambda lead: (key(lead), lead.id))


class InMemoryLeadHistory:
    def __init__(self, state: Callable[[], State]) -> None:
        self._state = state

    @property
    def _changes(self) -> dict[str, LeadChange]:
        return self._state().table("lead_history")

    async def add(self, changes: Sequence[LeadChange]) -> None:
        for change in changes:
            self._changes[change.id] = copy.deepcopy(change)

    async def of(self, lead_id: str, page: PageRequest) -> Page[LeadChange]:
        # Dicts keep insertion order: the order the changes were made in.
        found = [c for c in self._changes.values() if c.lead_id == lead_id]
        return Page(
            items=found[page.offset : page.offset + page.limit],
            total=len(found),
            limit=page.limit,
            offset=page.offset,
        )


class InMemoryLeadsRepositories(InMemoryRepositoryBundle):
    leads: InMemoryLeadRepository
    lead_history: InMemoryLeadHistory

    def bind(self, state: Callable[[], State]) -> None:
        self.leads = InMemoryLeadRepository(state)
        self.lead_history = InMemoryLeadHistory(state)
        super().bind(state)
