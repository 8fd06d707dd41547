"""The leads use cases over the in-memory units, with assistants that hold criteria."""

from __future__ import annotations

from datetime import timedelta

import pytest

from talia_core.leads.model import Cause, ChangeKind, Origin
from talia_core.leads.ports import LeadFilter
from talia_core.leads.services import QUALIFIED_EVENT
from talia_core.leads.stages import Stage
from talia_core.shared.errors import Conflict, NotFound, RuleViolated
from talia_core.shared.ids import new_id
from talia_core.shared.pagination import PageRequest
from tests.unit.leads.builders import T0, WEBCHAT, World, world

TOOL = Origin(Cause.TOOL_CALL, "update_lead by ventas")
EVERYTHING = PageRequest(limit=200)


@pytest.fixture
async def leads() -> World:
    opened = world()
    await opened.assistant("recepcion", channels=(WEBCHAT,))
    await opened.assistant("ventas", provider="openai")
    return opened


async def test_a_contact_writing_opens_one_lead_and_touches_it_later(leads: World) -> None:
    first = await leads.book.contact_wrote(new_id(), "contact-1", WEBCHAT, T0, "Hola")
    later = T0 + timedelta(hours=2)
    again = await leads.book.contact_wrote(new_id(), "contact-1", WEBCHAT, later, "Sigo aquí")
    assert first is not None
    assert again is not None
    assert again.id == first.id
    assert (again.first_contact_at, again.last_contact_at) == (T0, later)
    assert (again.business_line, again.channel, again.stage) == ("bodas", WEBCHAT, Stage.NEW)
    page = await leads.book.list(EVERYTHING, LeadFilter())
    assert page.total == 1


async def test_a_message_delivered_again_changes_nothing(leads: World) -> None:
    event = new_id()
    await leads.book.contact_wrote(event, "contact-1", WEBCHAT, T0, "Somos 120 invitados")
    repeated = await leads.book.contact_wrote(
        event, "contact-1", WEBCHAT, T0 + timedelta(days=1), "Somos 90 invitados"
    )
    assert repeated is None
    [lead] = (await leads.book.list(EVERYTHING, LeadFilter())).items
    assert (lead.facts, lead.last_contact_at) == ({"guest_count": 120}, T0)


async def test_the_offline_assistants_rules_read_the_message_into_facts(leads: World) -> None:
    text = "Nos casamos el 14 de febrero, seremos unos 120 invitados. Nos gusta el premium"
    lead = await leads.book.contact_wrote(new_id(), "contact-1", WEBCHAT, T0, text)
    assert lead is not None
    assert lead.facts == {"wedding_date": "2027-02-14", "guest_count": 120, "plan": "premium"}
    assert (lead.score, lead.stage) == (60, Stage.QUALIFIED)
    history = (await leads.book.history(lead.id, EVERYTHING)).items
    assert [c.kind for c in history] == [
        ChangeKind.CREATED,
        ChangeKind.FACT,
        ChangeKind.FACT,
        ChangeKind.FACT,
        ChangeKind.SCORE,
        ChangeKind.STAGE,
    ]
    assert {c.cause for c in history[1:]} == {Cause.RULE}
    assert (history[-1].before, history[-1].after) == ("new", "qualified")


async def test_becoming_qualified_raises_one_event_in_the_outbox(leads: World) -> None:
    facts = {"wedding_date": "2027-02-14", "guest_count": 120}
    lead = await leads.book.record_facts(
        "contact-1", WEBCHAT, facts, assistant="ventas", origin=TOOL
    )
    assert lead.stage is Stage.QUALIFYING
    assert not [e for e in leads.database.committed.outbox if e.name == QUALIFIED_EVENT]
    await leads.book.record_facts(
        "contact-1", WEBCHAT, {"plan": "celebration"}, assistant="ventas", origin=TOOL
    )
    await leads.book.record_facts(
        "contact-1", WEBCHAT, {"decision_maker": "pareja"}, assistant="ventas", origin=TOOL
    )
    events = [e for e in leads.database.committed.outbox if e.name == QUALIFIED_EVENT]
    assert [e.data["lead_id"] for e in events] == [lead.id]
    assert events[0].data["score"] == 60


async def test_facts_of_the_wrong_type_are_refused_and_the_lead_is_unchanged(
    leads: World,
) -> None:
    lead = await leads.book.record_facts(
        "contact-1", WEBCHAT, {"guest_count": 120}, assistant="ventas", origin=TOOL
    )
    with pytest.raises(RuleViolated) as refused:
        await leads.book.record_facts(
            "contact-1",
            WEBCHAT,
            {"plan": "premium", "budget": "dos mil soles"},
            assistant="ventas",
            origin=TOOL,
        )
    assert "facts.budget" in refused.value.fields
    kept = await leads.book.get(lead.id)
    assert (kept.facts, kept.score) == ({"guest_count": 120}, 20)
    assert (await leads.book.history(lead.id, EVERYTHING)).total == 4


async def test_an_unknown_fact_is_refused_naming_it(leads: World) -> None:
    with pytest.raises(RuleViolated) as refused:
        await leads.book.record_facts(
            "contact-1", WEBCHAT, {"colour": "blue"}, assistant="ventas", origin=TOOL
        )
    assert "facts.colour" in refused.value.fields
    assert (await leads.book.list(EVERYTHING, LeadFilter())).total == 0


async def test_an_assistant_without_criteria_records_no_facts(leads: World) -> None:
    await leads.assistant("soporte", leads=None)
    with pytest.raises(RuleViolated, match="no lead criteria"):
        await leads.book.record_facts(
            "contact-1", WEBCHAT, {"plan": "premium"}, assistant="soporte", origin=TOOL
        )


async def test_an_agent_moves_assigns_and_annotates_with_each_change_kept(
    leads: World,
) -> None:
    lead = await leads.book.record_facts(
        "contact-1", WEBCHAT, {"plan": "premium"}, assistant="ventas", origin=TOOL
    )
    revised = await leads.book.revise(
        lead.id,
        by="agent-1",
        stage=Stage.QUALIFIED,
        reason="Confirmed on a call",
        owner_id="agent-1",
        notes="Prefers WhatsApp",
    )
    assert (revised.stage, revised.owner_id, revised.notes) == (
        Stage.QUALIFIED,
        "agent-1",
        "Prefers WhatsApp",
    )
    history = (await leads.book.history(lead.id, EVERYTHING)).items
    stage, owner, notes = history[-3:]
    assert (stage.kind, stage.cause, stage.by, stage.reason) == (
        ChangeKind.STAGE,
        Cause.AGENT,
        "agent-1",
        "Confirmed on a call",
    )
    assert (owner.kind, owner.after, notes.kind) == (ChangeKind.OWNER, "agent-1", ChangeKind.NOTES)
    assert [e.name for e in leads.database.committed.outbox].count(QUALIFIED_EVENT) == 1


async def test_a_move_needs_a_reason_and_an_allowed_target(leads: World) -> None:
    lead = await leads.book.record_facts(
        "contact-1", WEBCHAT, {"plan": "premium"}, assistant="ventas", origin=TOOL
    )
    with pytest.raises(RuleViolated) as refused:
        await leads.book.revise(lead.id, by="agent-1", stage=Stage.LOST)
    assert "reason" in refused.value.fields
    with pytest.raises(RuleViolated):
        await leads.book.revise(lead.id, by="agent-1", stage=Stage.LOST, reason="  ")
    with pytest.raises(Conflict, match="cannot become won"):
        await leads.book.revise(lead.id, by="agent-1", stage=Stage.WON, reason="Paid")
    assert (await leads.book.get(lead.id)).stage is Stage.QUALIFYING


async def test_once_won_a_lead_stays_won(leads: World) -> None:
    lead = await leads.book.record_facts(
        "contact-1", WEBCHAT, {"plan": "premium"}, assistant="ventas", origin=TOOL
    )
    for stage in (Stage.QUALIFIED, Stage.BOOKED, Stage.WON):
        await leads.book.revise(lead.id, by="agent-1", stage=stage, reason="Next step")
    with pytest.raises(Conflict):
        await leads.book.revise(lead.id, by="agent-1", stage=Stage.LOST, reason="Changed mind")
    kept = await leads.book.record_facts(
        "contact-1", WEBCHAT, {"guest_count": 200}, assistant="ventas", origin=TOOL
    )
    assert kept.stage is Stage.WON


async def test_a_lead_that_does_not_exist_is_not_found(leads: World) -> None:
    with pytest.raises(NotFound):
        await leads.book.history("missing", EVERYTHING)
    with pytest.raises(NotFound):
        await leads.book.revise("missing", by="agent-1", notes="x")
