"""The leads routes over the in-memory units, with the demo assistants answering offline: a
web chat visitor's words become the facts of their lead, which agents list, export, move,
assign and annotate."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from entrypoints.bootstrap import Talia
from entrypoints.seed import seed_demo_data
from talia_core.identity.model import Role
from tests.api import Api, open_api, settings_for_tests
from tests.unit.leads.builders import CRITERIA

WEDDING = (
    "Hola, nos casamos el 14 de febrero, seremos unos 120 invitados y nos gusta el plan premium"
)


@pytest.fixture
async def demo(tmp_path: Path) -> AsyncIterator[Api]:
    settings = settings_for_tests(
        "sqlite+aiosqlite:///:memory:",
        channels={"debounce_seconds": 0},
        storage={"local_dir": str(tmp_path)},
    )
    async with open_api(settings, in_memory=True) as opened:
        assert await seed_demo_data(Talia.of(opened.container))
        yield opened


async def visitor_writes(api: Api, *texts: str) -> None:
    """A web chat visitor writes; jobs run as a worker would."""
    session = await api.client.post("/api/webchat/sessions", json={"name": "Ana"})
    headers = {"Authorization": f"Bearer {session.json()['token']}"}
    runner = api.container.use_cases.job_runner()
    for text in texts:
        sent = await api.client.post("/api/webchat/messages", json={"text": text}, headers=headers)
        assert sent.status_code == 202, sent.text
        while await runner.run_due(100):
            pass


async def only_lead(api: Api, agent: dict[str, str]) -> dict[str, Any]:
    listed = await api.client.get("/api/leads", headers=agent)
    assert listed.status_code == 200, listed.text
    [lead] = listed.json()["items"]
    return dict(lead)


async def test_a_visitors_words_to_the_offline_demo_become_a_qualified_lead(demo: Api) -> None:
    _, agent = await demo.user(Role.AGENT)
    await visitor_writes(demo, WEDDING)
    lead = await only_lead(demo, agent)
    assert lead["facts"] == {"wedding_date": "2027-02-14", "guest_count": 120, "plan": "premium"}
    assert (lead["stage"], lead["score"], lead["channel"]) == ("qualified", 60, "webchat")
    assert lead["business_line"] == "bodas"
    history = await demo.client.get(f"/api/leads/{lead['id']}/history", headers=agent)
    changes = history.json()["items"]
    assert [c["kind"] for c in changes] == ["created", "fact", "fact", "fact", "score", "stage"]
    assert {c["cause"] for c in changes[1:]} == {"rule"}


async def test_a_visitor_writing_again_keeps_one_lead_and_moves_its_last_contact(
    demo: Api,
) -> None:
    _, agent = await demo.user(Role.AGENT)
    await visitor_writes(demo, "Hola", "Tenemos un presupuesto de S/ 2,500")
    lead = await only_lead(demo, agent)
    assert lead["facts"] == {"budget": 250000}
    assert lead["last_contact_at"] > lead["first_contact_at"]


async def test_agents_filter_sort_and_page_the_leads(demo: Api) -> None:
    _, agent = await demo.user(Role.AGENT)
    await visitor_writes(demo, WEDDING)
    await visitor_writes(demo, "Seremos 40 invitados")
    get = demo.client.get
    qualified = (await get("/api/leads?stage=qualified", headers=agent)).json()
    assert [lead["score"] for lead in qualified["items"]] == [60]
    by_score = (await get("/api/leads?sort=score&limit=1", headers=agent)).json()
    assert (by_score["total"], by_score["items"][0]["score"]) == (2, 60)
    assert (await get("/api/leads?min_score=61", headers=agent)).json()["total"] == 0
    assert (await get("/api/leads?channel=whatsapp", headers=agent)).json()["total"] == 0
    future = await get("/api/leads?from=2100-01-01T00:00:00Z", headers=agent)
    assert future.json()["total"] == 0


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("stage=hot", "stage"),
        ("min_score=-1", "min_score"),
        ("sort=name", "sort"),
        ("format=xml", "format"),
        ("from=yesterday", "from"),
    ],
)
async def test_a_bad_filter_is_refused_naming_it(demo: Api, query: str, field: str) -> None:
    _, agent = await demo.user(Role.AGENT)
    refused = await demo.client.get(f"/api/leads?{query}", headers=agent)
    assert refused.status_code == 400, refused.text
    assert field in {error["field"] for error in refused.json()["errors"]}


async def test_an_agent_moves_assigns_and_annotates_a_lead(demo: Api) -> None:
    agent_id, agent = await demo.user(Role.AGENT)
    await visitor_writes(demo, WEDDING)
    lead = await only_lead(demo, agent)
    moved = await demo.client.patch(
        f"/api/leads/{lead['id']}",
        json={
            "stage": "booked",
            "reason": "Llamada agendada",
            "owner_id": agent_id,
            "notes": "VIP",
        },
        headers=agent,
    )
    assert moved.status_code == 200, moved.text
    assert (moved.json()["stage"], moved.json()["owner_id"]) == ("booked", agent_id)
    mine = await demo.client.get(f"/api/leads?owner_id={agent_id}", headers=agent)
    assert mine.json()["total"] == 1
    cleared = await demo.client.patch(
        f"/api/leads/{lead['id']}", json={"notes": None}, headers=agent
    )
    assert (cleared.json()["notes"], cleared.json()["owner_id"]) == (None, agent_id)
    history = await demo.client.get(f"/api/leads/{lead['id']}/history", headers=agent)
    last = history.json()["items"][-4:]
    assert [(c["kind"], c["cause"], c["by"]) for c in last] == [
        ("stage", "agent", agent_id),
        ("owner", "agent", agent_id),
        ("notes", "agent", agent_id),
        ("notes", "agent", agent_id),
    ]
    assert last[0]["reason"] == "Llamada agendada"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"stage": "lost"}, 400),
        ({"reason": "why not"}, 400),
        ({"stage": "won", "reason": "pagó"}, 409),
        ({"stage": "lost", "reason": "   "}, 400),
        ({"colour": "blue"}, 400),
    ],
)
async def test_a_bad_revision_is_refused_and_changes_nothing(
    demo: Api, body: dict[str, Any], status: int
) -> None:
    _, agent = await demo.user(Role.AGENT)
    await visitor_writes(demo, WEDDING)
    lead = await only_lead(demo, agent)
    refused = await demo.client.patch(f"/api/leads/{lead['id']}", json=body, headers=agent)
    assert refused.status_code == status, refused.text
    assert await only_lead(demo, agent) == lead


async def test_the_csv_export_has_every_lead_the_filters_keep(demo: Api) -> None:
    _, agent = await demo.user(Role.AGENT)
    await visitor_writes(demo, WEDDING)
    await visitor_writes(demo, "=HYPERLINK(1) seremos 40 invitados")
    exported = await demo.client.get("/api/leads?format=csv&limit=1", headers=agent)
    assert exported.status_code == 200, exported.text
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert len(rows) == 2
    assert {row["stage"] for row in rows} == {"qualified", "qualifying"}
    wedding = next(row for row in rows if row["stage"] == "qualified")
    assert wedding["facts"] == "guest_count=120; plan=premium; wedding_date=2027-02-14"
    only = await demo.client.get("/api/leads?format=csv&stage=qualifying", headers=agent)
    assert len(list(csv.DictReader(io.StringIO(only.text)))) == 1


async def test_leads_are_for_the_team_only(demo: Api) -> None:
    _, customer = await demo.user(Role.CUSTOMER)
    assert (await demo.client.get("/api/leads", headers=customer)).status_code == 403
    assert (await demo.client.get("/api/leads")).status_code == 401
    _, agent = await demo.user(Role.AGENT)
    missing = await demo.client.get("/api/leads/nope", headers=agent)
    assert missing.status_code == 404
    assert (await demo.client.get("/api/leads/nope/history", headers=agent)).status_code == 404


async def test_an_assistant_with_wrong_criteria_is_refused_naming_the_path(demo: Api) -> None:
    _, admin = await demo.user(Role.ADMIN)
    criteria = {**CRITERIA, "facts": [{"name": "budget", "kind": "money", "weight": "25"}]}
    definition = {
        "name": "bodas",
        "provider": "offline",
        "model": "rules",
        "instructions": "Atiende a los novios.",
        "leads": criteria,
    }
    refused = await demo.client.post("/api/assistants", json=definition, headers=admin)
    assert refused.status_code == 422, refused.text
    assert {e["field"] for e in refused.json()["errors"]} == {"leads.facts[0].weight"}
    definition["leads"] = CRITERIA
    created = await demo.client.post("/api/assistants", json=definition, headers=admin)
    assert created.status_code == 201, created.text
    assert created.json()["leads"] == CRITERIA
