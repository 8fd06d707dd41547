"""Qualified leads pointed out on the agents' desk: a label on the contact's conversation
there and a private note that sums the lead up.

Applied once per (lead, event): the event's key is recorded after the desk took both, so a
failure retries them; the label is never added twice, and only a crash between the note and
that record could leave a second note.
"""

from __future__ import annotations

from talia_core.leads.criteria import FactKind, FactValue
from talia_core.leads.model import Lead
from talia_core.leads.ports import AgentsDesk, LeadCriteria, LeadsUnitOfWork
from talia_core.shared.clock import Clock
from talia_core.shared.jobs import job_id_for
from talia_core.shared.ports import UnitOfWorkFactory


class DeskAnnouncements:
    def __init__(
        self,
        uow: UnitOfWorkFactory[LeadsUnitOfWork],
        clock: Clock,
        criteria: LeadCriteria,
        desk: AgentsDesk,
        *,
        label: str,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._criteria = criteria
        self._desk = desk
        self._label = label

    async def qualified(self, event_id: str, lead_id: str) -> bool:
        """Label the lead's contact's conversation and leave the note; False when done
        already, or when the contact has no conversation on the desk."""
        key = job_id_for(f"leads.desk:{lead_id}:{event_id}")
        async with self._uow(read_only=True) as uow:
            if await uow.leads.delivered(key):
                return False
            lead = await uow.leads.get(lead_id)
        if not await self._desk.label(lead.contact_id, self._label):
            return False
        policy = await self._criteria.of_channel(lead.channel)
        kinds = {r.name: r.kind for r in policy.criteria.facts} if policy is not None else {}
        await self._desk.note(lead.contact_id, summary(lead, kinds))
        async with self._uow() as uow:
            await uow.leads.first_delivery(key, self._clock.now())
            await uow.commit()
        return True


def summary(lead: Lead, kinds: dict[str, FactKind]) -> str:
    """What the agents read: the score, then each fact in the criteria's order (money in
    soles)."""
    order = {name: place for place, name in enumerate(kinds)}
    facts = sorted(lead.facts.items(), key=lambda fact: (order.get(fact[0], len(order)), fact[0]))
    lines = [f"Lead calificado: {lead.score} puntos ({lead.business_line})"]
    lines.extend(f"- {name}: {_shown(value, kinds.get(name))}" for name, value in facts)
    return "\n".join(lines)


def _shown(value: FactValue, kind: FactKind | None) -> str:
    if kind is FactKind.MONEY and isinstance(value, int):
        return f"S/ {value // 100:,}.{value % 100:02d}"
    return str(value)
