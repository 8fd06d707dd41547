"""Leads use cases: each one a single transaction.

A lead is opened when its contact first writes (``contact_wrote``: an insert that a
concurrent writer cannot double), learns facts from a model's ``update_lead`` call or
from the extraction rules, and is moved, assigned and annotated by the team. A lead that
becomes qualified raises ``lead.qualified`` in the outbox, in the same transaction.
"""

from __future__ import annotations

import builtins
import enum
from collections.abc import AsyncIterator, Mapping
from datetime import datetime, tzinfo

from talia_core.leads.criteria import NO_CRITERIA, Criteria
from talia_core.leads.extraction import extract
from talia_core.leads.model import Cause, ChangeKind, Lead, LeadChange, Origin
from talia_core.leads.ports import LeadCriteria, LeadFilter, LeadsUnitOfWork
from talia_core.leads.stages import Stage
from talia_core.shared.clock import Clock
from talia_core.shared.errors import RuleViolated
from talia_core.shared.events import DomainEvent
from talia_core.shared.pagination import MAX_LIMIT, Page, PageRequest
from talia_core.shared.ports import UnitOfWorkFactory

QUALIFIED_EVENT = "lead.qualified"


class Keep(enum.Enum):
    """A field of a revision left out: it keeps its value (None would clear it)."""

    KEEP = "keep"


KEEP = Keep.KEEP


class LeadBook:
    def __init__(
        self,
        uow: UnitOfWorkFactory[LeadsUnitOfWork],
        clock: Clock,
        criteria: LeadCriteria,
        *,
        zone: tzinfo,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._criteria = criteria
        self._zone = zone

    async def contact_wrote(
        self, event_id: str, contact_id: str, channel: str, at: datetime, text: str | None
    ) -> Lead | None:
        """Open or touch the contact's lead of the business line of the assistant answering
        ``channel``; with the offline assistant, its extraction rules read ``text``. The
        event (a message received) is applied once: None when it already was."""
        policy = await self._criteria.of_channel(channel)
        criteria = policy.criteria if policy is not None else NO_CRITERIA
        facts = {}
        if policy is not None and policy.reads_messages and text:
            today = self._clock.now().astimezone(self._zone).date()
            facts = extract(text, criteria, today)
        async with self._uow() as uow:
            if not await uow.leads.first_delivery(event_id, self._clock.now()):
                return None
            lead = await lead_of(uow, contact_id, criteria, channel, at)
            lead.touch(at)
            changes = []
            if facts:
                changes = lead.learn(facts, criteria, Origin(Cause.RULE, "extraction"), at)
            await store(uow, lead, changes)
            await uow.commit()
        return lead

    async def record_facts(
        self,
        contact_id: str,
        channel: str,
        facts: Mapping[str, object],
        *,
        assistant: str,
        origin: Origin,
    ) -> Lead:
        """Facts a model gave for the conversation's contact, scored by its assistant's
        criteria; one of the wrong type refuses them all and changes nothing."""
        policy = await self._criteria.of_assistant(assistant)
        if policy is None:
            raise RuleViolated(
                f"assistant {assistant!r} holds no lead criteria", {"assistant": "no criteria"}
            )
        criteria = policy.criteria
        now = self._clock.now()
        async with self._uow() as uow:
            lead = await lead_of(uow, contact_id, criteria, channel, now)
            await store(uow, lead, lead.learn(facts, criteria, origin, now))
            await uow.commit()
        return lead

    async def get(self, lead_id: str) -> Lead:
        async with self._uow(read_only=True) as uow:
            return await uow.leads.get(lead_id)

    async def list(self, page: PageRequest, where: LeadFilter) -> Page[Lead]:
        async with self._uow(read_only=True) as uow:
            return await uow.leads.find(page, where)

    async def everything(self, where: LeadFilter) -> AsyncIterator[Lead]:
        """Every lead the filter keeps, page after page (for an export)."""
        offset = 0
        while True:
            page = await self.list(PageRequest(limit=MAX_LIMIT, offset=offset), where)
            for lead in page.items:
                yield lead
            offset += len(page.items)
            if not page.items or offset >= page.total:
                return

    async def history(self, lead_id: str, page: PageRequest) -> Page[LeadChange]:
        async with self._uow(read_only=True) as uow:
            await uow.leads.get(lead_id)
            return await uow.lead_history.of(lead_id, page)

    async def revise(
        self,
        lead_id: str,
        *,
        by: str,
        stage: Stage | None = None,
        reason: str | None = None,
        owner_id: str | Keep | None = KEEP,
        notes: str | Keep | None = KEEP,
    ) -> Lead:
        """A person of the team moves the lead (with a reason), assigns it (None: to no one)
        or rewrites its notes; what is left out stays."""
        if stage is None and reason is not None:
            raise RuleViolated("a reason goes with a stage", {"reason": "without stage"})
        origin = Origin(Cause.AGENT, by)
        now = self._clock.now()
        async with self._uow() as uow:
            lead = await uow.leads.get(lead_id)
            changes: builtins.list[LeadChange | None] = []
            if stage is not None:
                if reason is None:
                    raise RuleViolated("moving a lead needs a reason", {"reason": "missing"})
                changes.append(lead.move(stage, reason=reason, origin=origin, at=now))
            if not isinstance(owner_id, Keep):
                changes.append(lead.assign(owner_id, origin, now))
            if not isinstance(notes, Keep):
                changes.append(lead.annotate(notes, origin, now))
            await store(uow, lead, [c for c in changes if c is not None])
            await uow.commit()
        return lead


async def lead_of(
    uow: LeadsUnitOfWork, contact_id: str, criteria: Criteria, channel: str, at: datetime
) -> Lead:
    """The contact's lead of the criteria's business line, opened when it has none: the
    insert comes first and is ignored when the lead exists (however concurrent writers
    race), then the row is read. Reading first would lock the gap where the row would go
    on MariaDB, and two openers locking it, then inserting into it, deadlock."""
    line = criteria.business_line
    lead, opened = Lead.open(contact_id, line, channel, at)
    if await uow.leads.add_if_absent(lead):
        await uow.lead_history.add([opened])
        return lead
    found = await uow.leads.of_contact(contact_id, line)
    if found is None:
        raise RuntimeError("the lead whose key refused the insert cannot be read")
    return found


async def store(uow: LeadsUnitOfWork, lead: Lead, changes: list[LeadChange]) -> None:
    """The lead with its new history; ``lead.qualified`` to the outbox when it became
    qualified (a lead back from ``booked`` after a cancelled appointment is no news)."""
    await uow.leads.update(lead)
    if not changes:
        return
    await uow.lead_history.add(changes)
    qualified, booked = Stage.QUALIFIED.value, Stage.BOOKED.value
    became = [
        c
        for c in changes
        if c.kind is ChangeKind.STAGE and c.after == qualified and c.before != booked
    ]
    if became:
        await uow.outbox.add(
            DomainEvent(
                QUALIFIED_EVENT,
                became[-1].at,
                {
                    "lead_id": lead.id,
                    "contact_id": lead.contact_id,
                    "business_line": lead.business_line,
                    "score": lead.score,
                    "channel": lead.channel,
                },
            )
        )
