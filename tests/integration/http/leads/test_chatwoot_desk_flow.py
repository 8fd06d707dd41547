"""With Chatwoot as the agents' desk, a lead qualified by a Chatwoot customer's words is
labelled and noted there: through the real app on SQLite, PostgreSQL and MariaDB, Chatwoot
being a local server speaking its application API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from talia_core.assistants.definition import Definition
from talia_core.identity.model import Role
from tests.api import Api, open_api, settings_for_tests
from tests.channels import CHANNELS, CHATWOOT_TOKEN
from tests.integration.channels.chatwoot_server import FakeChatwoot
from tests.unit.leads.builders import CRITERIA

CONVERSATION = 77
LABEL = "lead-calificado"


@pytest.fixture
async def chatwoot() -> AsyncIterator[FakeChatwoot]:
    server = FakeChatwoot(int(CHANNELS["chatwoot_account_id"]), CHANNELS["chatwoot_api_token"])
    server.start_conversation(CONVERSATION).labels.append("vip")
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def desk(database_url: str, tmp_path: Path, chatwoot: FakeChatwoot) -> AsyncIterator[Api]:
    settings = settings_for_tests(
        database_url,
        channels={**CHANNELS, "chatwoot_url": chatwoot.base_url},
        leads={"chatwoot_label": LABEL},
        storage={"local_dir": str(tmp_path)},
    )
    async with open_api(settings) as opened:
        definition = Definition(
            provider="offline",
            model="rules",
            instructions="Atiende a los novios.",
            channels=("chatwoot",),
            leads=CRITERIA,
        )
        await opened.container.use_cases.assistants().create("mesa", definition, by="tests")
        yield opened


async def test_a_lead_qualified_on_chatwoot_is_labelled_and_summed_up_for_the_agents(
    desk: Api, chatwoot: FakeChatwoot
) -> None:
    event = {
        "event": "message_created",
        "id": 501,
        "content": "Nos casamos el 14 de febrero, unos 120 invitados, el plan premium",
        "message_type": "incoming",
        "created_at": "2026-01-01T12:00:00.000Z",
        "private": False,
        "sender": {"id": 9, "name": "Luis", "type": "contact"},
        "conversation": {"id": CONVERSATION, "status": "pending"},
        "account": {"id": 1, "name": "Talia"},
    }

    answer = await desk.client.post(f"/api/chatwoot/webhook?token={CHATWOOT_TOKEN}", json=event)
    runner = desk.container.use_cases.job_runner()
    while await runner.run_due(100):
        pass

    assert answer.status_code == 200, answer.text
    _, agent = await desk.user(Role.AGENT)
    [lead] = (await desk.client.get("/api/leads", headers=agent)).json()["items"]
    assert (lead["stage"], lead["channel"]) == ("qualified", "chatwoot")
    conversation = chatwoot.conversations[CONVERSATION]
    assert conversation.labels == ["vip", LABEL]
    notes = [m["content"] for m in conversation.messages if m["private"]]
    assert notes == [
        "Lead calificado: 60 puntos (bodas)\n"
        "- wedding_date: 2027-02-14\n"
        "- guest_count: 120\n"
        "- plan: premium"
    ]
    assert any(not m["private"] for m in conversation.messages)
