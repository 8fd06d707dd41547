"""What the leads context needs: storage for leads and their history, and the criteria
each assistant holds."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

import attrs

from talia_core.leads.criteria import Criteria
from talia_core.leads.model import Lead, LeadChange
from talia_core.leads.stages import Stage
from talia_core.shared.pagination import Page, PageRequest
from talia_core.shared.ports import UnitOfWork


class LeadOrder(enum.StrEnum):
    """How a list of leads is sorted, each descending (highest or latest first)."""

    LAST_CONTACT = "last_contact"
    FIRST_CONTACT = "first_contact"
    SCORE = "score"
    UPDATED = "updated"


@attrs.frozen
class LeadFilter:
    """Every field left unset matches every lead; ``since``/``until`` bound the last
    contact (``until`` excluded)."""

    stage: Stage | None = None
    min_score: int | None = None
    owner_id: str | None = None
    channel: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    order: LeadOrder = LeadOrder.LAST_CONTACT


class LeadRepository(Protocol):
    """One lead per contact and business line, whatever concurrent writers do."""

    async def add_if_absent(self, lead: Lead) -> bool:
        """Add the lead; False (and nothing written) when its contact already has a lead
        of its business line."""
        ...

    async def get(self, lead_id: str) -> Lead:
        """``NotFound`` when missing; locked in a writing unit."""
        ...

    async def of_contact(self, contact_id: str, business_line: str) -> Lead | None:
        """Locked in a writing unit."""
        ...

    async def update(self, lead: Lead) -> None: ...

    async def first_delivery(self, event_id: str, at: datetime) -> bool:
        """Record that the event was applied; False (and nothing written) when it was
        already: an event delivered again changes nothing."""
        ...

    async def delivered(self, event_id: str) -> bool:
        """Whether ``first_delivery`` recorded the event already."""
        ...

    async def find(self, page: PageRequest, where: LeadFilter) -> Page[Lead]:
        """Sorted by ``where.order``, ties by id."""
        ...


class LeadHistory(Protocol):
    """Every change of every lead, kept; never edited."""

    async def add(self, changes: Sequence[LeadChange]) -> None: ...

    async def of(self, lead_id: str, page: PageRequest) -> Page[LeadChange]:
        """Oldest first, in the order they were added."""
        ...


class LeadsUnitOfWork(UnitOfWork, Protocol):
    @property
    def leads(self) -> LeadRepository: ...

    @property
    def lead_history(self) -> LeadHistory: ...


@attrs.frozen
class LeadPolicy:
    """What an assistant says of leads: its criteria, and whether the extraction rules
    read its customers' messages (the offline assistant has no model to do it)."""

    criteria: Criteria
    reads_messages: bool = False


class LeadCriteria(Protocol):
    """The criteria held on assistant definitions."""

    async def of_assistant(self, name: str) -> LeadPolicy | None:
        """The policy of the assistant's live definition; None without a ``leads`` block."""
        ...

    async def of_channel(self, channel: str) -> LeadPolicy | None:
        """The policy of the assistant that answers ``channel`` first, if any."""
        ...


@attrs.frozen
class Booking:
    """An appointment as the leads see it: whose it is, and the channel it was booked on."""

    appointment_id: str
    contact_id: str | None
    channel: str | None


class Bookings(Protocol):
    """The appointments the scheduling context keeps, read for the leads."""

    async def of_appointment(self, appointment_id: str) -> Booking | None:
        """None when there is no such appointment."""
        ...

    async def any_to_come(self, contact_id: str) -> bool:
        """Whether the contact holds an appointment, not cancelled, that has not begun."""
        ...


class AgentsDesk(Protocol):
    """Where the team works the conversations outside Talia (Chatwoot): a qualified lead is
    pointed out to the agents in its contact's conversation there."""

    async def label(self, contact_id: str, label: str) -> bool:
        """Add ``label`` to the labels of the contact's latest conversation on the desk,
        keeping the others (none added twice); False when the contact has none there."""
        ...

    async def note(self, contact_id: str, text: str) -> bool:
        """Leave ``text`` in the contact's latest conversation on the desk, seen only by the
        agents; False when the contact has none there. Not repeated on a failure: the
        desk may have kept it."""
        ...
