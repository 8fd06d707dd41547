"""Leads through the real app on SQLite, PostgreSQL and MariaDB: the demo assistants answer
offline, web chat visitors' words become their leads' facts, and agents work the leads."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from entrypoints.bootstrap import Talia
from entrypoints.seed import seed_demo_data
from talia_core.identity.model import Role
from talia_core.shared.ids import new_id
from tests.api import Api, open_api, settings_for_tests
from tests.unit.http.leads.test_leads_routes import WEDDING, visitor_writes


@pytest.fixture
async def demo(database_url: str, tmp_path: Path) -> AsyncIterator[Api]:
    settings = settings_for_tests(
        database_url, channels={"debounce_seconds": 0}, storage={"local_dir": str(tmp_path)}
    )
    async with open_api(settings) as opened:
        assert await seed_demo_data(Talia.of(opened.container))
        yield opened


async def test_a_visitors_words_qualify_their_lead_and_agents_work_it(demo: Api) -> None:
    agent_id, agent = await demo.user(Role.AGENT)
    await visitor_writes(demo, "Hola", WEDDING)
    await visitor_writes(demo, "Seremos 40 invitados")
    listed = (await demo.client.get("/api/leads?sort=score", headers=agent)).json()
    assert [(lead["stage"], lead["score"]) for lead in listed["items"]] == [
        ("qualified", 60),
        ("qualifying", 20),
    ]
    lead = listed["items"][0]
    assert lead["facts"] == {"wedding_date": "2027-02-14", "guest_count": 120, "plan": "premium"}
    moved = await demo.client.patch(
        f"/api/leads/{lead['id']}",
        json={"stage": "booked", "reason": "Llamada agendada", "owner_id": agent_id},
        headers=agent,
    )
    assert moved.status_code == 200, moved.text
    history = (await demo.client.get(f"/api/leads/{lead['id']}/history", headers=agent)).json()
    assert [(c["kind"], c["cause"]) for c in history["items"]] == [
        ("created", "contact"),
        ("fact", "rule"),
        ("fact", "rule"),
        ("fact", "rule"),
        ("score", "rule"),
        ("stage", "rule"),
        ("stage", "agent"),
        ("owner", "agent"),
    ]
    exported = await demo.client.get("/api/leads?format=csv&owner_id=" + agent_id, headers=agent)
    [row] = list(csv.DictReader(io.StringIO(exported.text)))
    assert (row["id"], row["stage"], row["score"]) == (lead["id"], "booked", "60")


async def test_concurrent_first_messages_of_a_contact_open_one_lead(demo: Api) -> None:
    leads, now = Talia.of(demo.container).leads, demo.container.core.clock().now()
    opened = await asyncio.gather(
        *(
            leads.contact_wrote(new_id(), "contact-1", "webchat", now, "Somos 90 invitados")
            for _ in range(6)
        )
    )
    assert len({lead.id for lead in opened if lead is not None}) == 1
    _, agent = await demo.user(Role.AGENT)
    assert (await demo.client.get("/api/leads", headers=agent)).json()["total"] == 1
