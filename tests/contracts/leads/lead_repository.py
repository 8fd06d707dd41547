"""The contract of the leads' repositories: the in-memory fake and SQL on every database
run it (``tests/integration/repositories/leads``) through the ``uow_factory`` fixture."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from talia_core.leads.model import Cause, ChangeKind, Lead, LeadChange
from talia_core.leads.ports import LeadFilter, LeadOrder
from talia_core.leads.stages import Stage
from talia_core.shared.errors import NotFound
from talia_core.shared.pagination import PageRequest
from tests.conftest import UowFactory

T0 = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)
PAGE = PageRequest(limit=50)


def _lead(contact: str, *, minutes: int = 0, line: str = "bodas", channel: str = "webchat") -> Lead:
    lead, _ = Lead.open(contact, line, channel, T0 + timedelta(minutes=minutes))
    return lead


async def _add(uow_factory: UowFactory, *leads: Lead) -> None:
    async with uow_factory() as uow:
        for lead in leads:
            assert await uow.leads.add_if_absent(lead)
        await uow.commit()


class LeadRepositoryContract:
    async def test_an_added_lead_reads_back_equal_with_its_facts(
        self, uow_factory: UowFactory
    ) -> None:
        lead = _lead("contact-1")
        lead.facts = {"wedding_date": "2027-02-14", "guest_count": 120, "plan": "premium"}
        lead.score, lead.stage, lead.notes = 60, Stage.QUALIFIED, "Llamar el lunes"
        await _add(uow_factory, lead)
        async with uow_factory(read_only=True) as uow:
            assert await uow.leads.get(lead.id) == lead
            assert await uow.leads.of_contact("contact-1", "bodas") == lead
            assert await uow.leads.of_contact("contact-1", "default") is None

    async def test_a_second_lead_of_a_contact_and_line_is_not_added(
        self, uow_factory: UowFactory
    ) -> None:
        first = _lead("contact-1")
        await _add(uow_factory, first, _lead("contact-1", line="fiestas"))
        async with uow_factory() as uow:
            assert not await uow.leads.add_if_absent(_lead("contact-1", minutes=5))
            await uow.commit()
        async with uow_factory(read_only=True) as uow:
            page = await uow.leads.find(PAGE, LeadFilter())
        assert page.total == 2
        assert first.id in {lead.id for lead in page.items}

    async def test_concurrent_openers_of_one_contact_make_one_lead(
        self, uow_factory: UowFactory
    ) -> None:
        async def open_one(minutes: int) -> bool:
            async with uow_factory() as uow:
                added = await uow.leads.add_if_absent(_lead("contact-1", minutes=minutes))
                await uow.commit()
                return added

        added = await asyncio.gather(*(open_one(n) for n in range(6)))
        assert added.count(True) == 1
        async with uow_factory(read_only=True) as uow:
            assert (await uow.leads.find(PAGE, LeadFilter())).total == 1

    async def test_an_update_keeps_every_changing_field(self, uow_factory: UowFactory) -> None:
        lead = _lead("contact-1")
        await _add(uow_factory, lead)
        async with uow_factory() as uow:
            stored = await uow.leads.get(lead.id)
            stored.facts["budget"] = 250000
            stored.score, stored.stage = 25, Stage.QUALIFYING
            stored.owner_id, stored.notes = "agent-1", "VIP"
            stored.last_contact_at = stored.updated_at = T0 + timedelta(days=1)
            await uow.leads.update(stored)
            await uow.commit()
        async with uow_factory(read_only=True) as uow:
            assert await uow.leads.get(lead.id) == stored

    async def test_leaving_without_commit_keeps_nothing(self, uow_factory: UowFactory) -> None:
        lead = _lead("contact-1")
        async with uow_factory() as uow:
            await uow.leads.add_if_absent(lead)
        async with uow_factory(read_only=True) as uow:
            with pytest.raises(NotFound):
                await uow.leads.get(lead.id)

    async def test_the_filters_keep_only_matching_leads(self, uow_factory: UowFactory) -> None:
        a, b, c = _lead("a"), _lead("b", minutes=60, channel="whatsapp"), _lead("c", minutes=120)
        a.score, b.score, c.score = 10, 70, 40
        b.stage, b.owner_id = Stage.QUALIFIED, "agent-1"
        await _add(uow_factory, a, b, c)

        async def ids(where: LeadFilter) -> list[str]:
            async with uow_factory(read_only=True) as uow:
                return [lead.id for lead in (await uow.leads.find(PAGE, where)).items]

        assert await ids(LeadFilter()) == [c.id, b.id, a.id]
        assert await ids(LeadFilter(order=LeadOrder.SCORE)) == [b.id, c.id, a.id]
        assert await ids(LeadFilter(stage=Stage.QUALIFIED)) == [b.id]
        assert await ids(LeadFilter(min_score=40)) == [c.id, b.id]
        assert await ids(LeadFilter(owner_id="agent-1")) == [b.id]
        assert await ids(LeadFilter(channel="whatsapp")) == [b.id]
        window = LeadFilter(since=T0 + timedelta(minutes=60), until=T0 + timedelta(minutes=120))
        assert await ids(window) == [b.id]

    async def test_pages_say_the_total(self, uow_factory: UowFactory) -> None:
        await _add(uow_factory, *(_lead(f"contact-{n}", minutes=n) for n in range(5)))
        async with uow_factory(read_only=True) as uow:
            page = await uow.leads.find(PageRequest(limit=2, offset=4), LeadFilter())
            past = await uow.leads.find(PageRequest(limit=2, offset=10), LeadFilter())
        assert (len(page.items), page.total, len(past.items), past.total) == (1, 5, 0, 5)

    async def test_the_history_reads_back_in_the_order_it_was_made(
        self, uow_factory: UowFactory
    ) -> None:
        lead = _lead("contact-1")
        await _add(uow_factory, lead)
        changes = [
            LeadChange(lead.id, T0, ChangeKind.FACT, Cause.RULE, "extraction", "plan", None, "x"),
            LeadChange(lead.id, T0, ChangeKind.SCORE, Cause.RULE, "extraction", None, "0", "20"),
            LeadChange(lead.id, T0, ChangeKind.STAGE, Cause.AGENT, "u", None, "new", "lost", "no"),
        ]
        async with uow_factory() as uow:
            await uow.lead_history.add(changes[:2])
            await uow.lead_history.add(changes[2:])
            await uow.commit()
        async with uow_factory(read_only=True) as uow:
            page = await uow.lead_history.of(lead.id, PAGE)
            second = await uow.lead_history.of(lead.id, PageRequest(limit=1, offset=1))
            other = await uow.lead_history.of("another", PAGE)
        assert list(page.items) == changes
        assert (list(second.items), second.total, other.total) == ([changes[1]], 3, 0)

    async def test_an_event_is_applied_once_and_known_as_delivered(
        self, uow_factory: UowFactory
    ) -> None:
        async with uow_factory() as uow:
            assert await uow.leads.first_delivery("event-1", T0)
            assert not await uow.leads.first_delivery("event-1", T0)
            await uow.commit()
        async with uow_factory(read_only=True) as uow:
            assert await uow.leads.delivered("event-1")
            assert not await uow.leads.delivered("event-2")
        async with uow_factory() as uow:
            assert not await uow.leads.first_delivery("event-1", T0)
            assert await uow.leads.first_delivery("event-2", T0)
