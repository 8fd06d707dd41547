"""Reminders through the real app on every database: a WhatsApp customer books through the
offline demo, the reminder reaches a local server speaking the WhatsApp Cloud API as the
configured template, once, and the customer's «sí» confirms while «no» cancels and frees
the slot."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from entrypoints.seed import prepare_demo
from entrypoints.settings import ChannelSettings
from talia_core.identity.model import Role
from talia_core.shared.clock import FakeClock
from tests.api import Api, open_api, settings_for_tests
from tests.channels import CHANNELS, meta_signature, whatsapp_text
from tests.integration.channels.graph_server import FakeGraph
from tests.unit.scheduling.builders import NOW
from tests.unit.scheduling.test_slots import lima

WEBHOOK = "/api/whatsapp/webhook"
TEMPLATE = {
    "name": "recordatorio_cita",
    "language": {"code": "es"},
    "components": [
        {
            "type": "body",
            "parameters": [
                {"type": "text", "text": "Ana"},
                {"type": "text", "text": "martes 3 de marzo, 09:00"},
            ],
        }
    ],
}


@pytest.fixture
async def graph() -> AsyncIterator[FakeGraph]:
    server = FakeGraph(
        token=CHANNELS["whatsapp_access_token"],
        phone_number_id=CHANNELS["whatsapp_phone_number_id"],
        version=ChannelSettings().whatsapp_api_version,
    )
    await server.start()
    yield server
    await server.close()


class Customer:
    """Ana on WhatsApp, writing to the app; jobs run as a worker would."""

    def __init__(self, api: Api, clock: FakeClock) -> None:
        self.api = api
        self.clock = clock
        self._sent = 0

    async def writes(self, text: str) -> None:
        self._sent += 1
        body = whatsapp_text(text, message_id=f"wamid.reminders.{self._sent}")
        answer = await self.api.client.post(WEBHOOK, content=body, headers=meta_signature(body))
        assert answer.status_code == 200, answer.text
        await self.run_jobs()

    async def run_jobs(self) -> None:
        runner = self.api.container.use_cases.job_runner()
        while await runner.run_due(100):
            pass

    async def appointment(self) -> dict[str, Any]:
        _, staff = await self.api.user(Role.AGENT)
        listed = (await self.api.client.get("/api/appointments", headers=staff)).json()
        [appointment] = listed["items"]
        return dict(appointment)


@pytest.fixture
async def customer(database_url: str, tmp_path: Path, graph: FakeGraph) -> AsyncIterator[Customer]:
    settings = settings_for_tests(
        database_url,
        demo_data=True,
        channels={**CHANNELS, "debounce_seconds": 0, "whatsapp_api_url": graph.base_url},
        storage={"local_dir": str(tmp_path)},
    )
    assert await prepare_demo(settings)
    clock = FakeClock(NOW)
    async with open_api(settings, clock=clock) as api:
        yield Customer(api, clock)


async def books_and_is_reminded(customer: Customer, graph: FakeGraph) -> dict[str, Any]:
    """«quiero una cita» → «la segunda» (Tuesday 3 March, 09:00 in Lima); a day before,
    the reminder job runs, and runs again (the event is recorded and relayed twice)."""
    await customer.writes("hola, quiero una cita")
    await customer.writes("la segunda")
    appointment = await customer.appointment()
    assert appointment["starts_at"].startswith(lima(3, 9).isoformat()[:19])
    assert appointment["channel"] == "whatsapp"
    customer.clock.advance(timedelta(hours=1, minutes=1))
    await customer.run_jobs()
    await customer.api.container.use_cases.scheduling().remind(appointment["id"])
    await customer.run_jobs()
    customer.clock.advance(timedelta(minutes=10))
    return appointment


def templates(graph: FakeGraph) -> list[dict[str, Any]]:
    return [sent for sent in graph.sent if sent["type"] == "template"]


async def test_the_reminder_is_the_template_once_and_si_confirms(
    customer: Customer, graph: FakeGraph
) -> None:
    await books_and_is_reminded(customer, graph)

    [reminder] = templates(graph)
    await customer.writes("Sí")
    appointment = await customer.appointment()

    assert reminder["to"] == "51987654321"
    assert reminder["template"] == TEMPLATE
    assert appointment["status"] == "confirmed"
    assert graph.sent[-1]["text"]["body"] == (
        "¡Gracias! Tu cita del martes 3 de marzo, 09:00 quedó confirmada. ✅"
    )
    assert len(templates(graph)) == 1


async def test_no_cancels_and_the_slot_is_free_again(customer: Customer, graph: FakeGraph) -> None:
    booked = await books_and_is_reminded(customer, graph)
    _, staff = await customer.api.user(Role.AGENT)
    window = {"from": lima(3, 9).isoformat(), "to": lima(3, 10).isoformat()}
    before = await customer.api.client.get("/api/availability", params=window, headers=staff)

    await customer.writes("no")
    appointment = await customer.appointment()
    after = await customer.api.client.get("/api/availability", params=window, headers=staff)

    assert appointment["id"] == booked["id"]
    assert appointment["status"] == "cancelled"
    assert graph.sent[-1]["text"]["body"].startswith("Listo, cancelamos tu cita del martes 3")
    assert before.status_code == after.status_code == 200, after.text
    assert lima(3, 9).isoformat()[:19] not in before.text
    assert lima(3, 9).isoformat()[:19] in after.text
