"""From a WhatsApp message to a booked lead, through the real app on SQLite, PostgreSQL and
MariaDB: the demo assistants answer offline, replies go out through the WhatsApp Cloud
sender to a local server speaking the Graph API, and jobs run as a worker would."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from entrypoints.seed import prepare_demo
from talia_core.identity.model import Role
from talia_core.scheduling.jobs import REMIND_JOB
from talia_core.shared.clock import FakeClock
from tests.api import Api, open_api, settings_for_tests
from tests.channels import CHANNELS, meta_signature, whatsapp_text
from tests.integration.channels.graph_server import FakeGraph
from tests.unit.http.leads.test_leads_routes import WEDDING
from tests.unit.scheduling.builders import NOW
from tests.unit.scheduling.test_slots import lima

WEBHOOK = "/api/whatsapp/webhook"
ANA = "51987654321"


@pytest.fixture
async def graph() -> AsyncIterator[FakeGraph]:
    server = FakeGraph(
        token=CHANNELS["whatsapp_access_token"],
        phone_number_id=CHANNELS["whatsapp_phone_number_id"],
        version="v21.0",
    )
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def shop(database_url: str, tmp_path: Path, graph: FakeGraph) -> AsyncIterator[Api]:
    """The demo shop on Monday 2 March 2026, 08:00 in Lima, talking to the local Graph API."""
    settings = settings_for_tests(
        database_url,
        demo_data=True,
        channels={**CHANNELS, "whatsapp_api_url": graph.base_url},
        storage={"local_dir": str(tmp_path)},
    )
    assert await prepare_demo(settings)
    async with open_api(settings, clock=FakeClock(NOW)) as opened:
        yield opened


async def writes(api: Api, graph: FakeGraph, text: str, message_id: str) -> str:
    """Ana writes on WhatsApp; jobs run; the text of the reply delivered to her."""
    body = whatsapp_text(text, message_id=message_id, wa_id=ANA)
    answer = await api.client.post(WEBHOOK, content=body, headers=meta_signature(body))
    assert answer.status_code == 200, answer.text
    delivered = len(graph.sent)
    runner = api.container.use_cases.job_runner()
    while await runner.run_due(100):
        pass
    assert len(graph.sent) == delivered + 1, graph.sent
    reply = graph.sent[-1]
    assert (reply["to"], reply["type"]) == (ANA, "text")
    text_sent: str = reply["text"]["body"]
    return text_sent


async def the_lead(api: Api, staff: dict[str, str]) -> dict[str, Any]:
    listed = await api.client.get("/api/leads?channel=whatsapp", headers=staff)
    assert listed.status_code == 200, listed.text
    [lead] = listed.json()["items"]
    return dict(lead)


async def test_a_whatsapp_customer_is_qualified_books_the_second_slot_and_is_reminded(
    shop: Api, graph: FakeGraph
) -> None:
    _, staff = await shop.user(Role.AGENT)

    await writes(shop, graph, WEDDING, "wamid.flow.facts")
    qualified = await the_lead(shop, staff)
    offer = await writes(shop, graph, "quiero una cita", "wamid.flow.ask")
    confirmation = await writes(shop, graph, "la segunda", "wamid.flow.pick")

    assert (qualified["stage"], qualified["score"]) == ("qualified", 60)
    assert qualified["facts"] == {
        "wedding_date": "2027-02-14",
        "guest_count": 120,
        "plan": "premium",
    }
    assert "1) lunes 2 de marzo, 09:00" in offer
    assert "2) martes 3 de marzo, 09:00" in offer
    assert confirmation.startswith("¡Listo! ✅ Tu cita quedó agendada para el martes 3")
    listed = (await shop.client.get("/api/appointments", headers=staff)).json()
    [appointment] = listed["items"]
    assert appointment["starts_at"].startswith(lima(3, 9).isoformat()[:19])
    assert (appointment["channel"], appointment["status"]) == ("whatsapp", "booked")
    booked = await the_lead(shop, staff)
    assert (booked["id"], booked["stage"]) == (qualified["id"], "booked")
    history = (await shop.client.get(f"/api/leads/{booked['id']}/history", headers=staff)).json()
    last = history["items"][-1]
    assert (last["kind"], last["before"], last["after"], last["cause"]) == (
        "stage",
        "qualified",
        "booked",
        "appointment",
    )
    _, admin = await shop.user(Role.ADMIN)
    jobs = (await shop.client.get("/api/admin/jobs?status=pending&limit=200", headers=admin)).json()
    [reminder] = [job for job in jobs["items"] if job["kind"] == REMIND_JOB]
    assert reminder["run_at"].startswith(lima(2, 9).isoformat()[:19])
