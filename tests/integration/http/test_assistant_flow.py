"""Assistants held as data answer WhatsApp through the real app on every database.

The definitions are created by an admin through ``/api/assistants``; the language models
are scripted fakes put in through the container (each real provider has its contract tests
against a local server speaking its wire format); the tools are the real ones, reading the
real catalog; jobs are run by calling the job runner, as a worker would.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from dependency_injector import providers

from adapters.memory.channels import FakeChannelSender
from adapters.memory.language import FakeLanguageModel
from entrypoints.container import Container
from talia_core.assistants.language import ToolCall, ToolOutput
from talia_core.conversations.vocabulary import Channel
from talia_core.identity.model import Role
from tests.api import Api, open_api, settings_for_tests
from tests.channels import CHANNELS, meta_signature, whatsapp_text
from tests.conftest import Engines
from tests.databases import BACKENDS, empty_tables
from tests.shop import plan

WEBHOOK = "/api/whatsapp/webhook"


@attrs.define
class World:
    api: Api
    model: FakeLanguageModel
    offline: FakeLanguageModel
    sent: FakeChannelSender
    admin: dict[str, str] = attrs.field(factory=dict)
    agent: dict[str, str] = attrs.field(factory=dict)

    async def assistant(self, name: str, **fields: Any) -> dict[str, Any]:
        body = {
            "name": name,
            "provider": "openai",
            "model": "gpt-4.1-mini",
            "instructions": "Eres {name} de la tienda.",
            "variables": {"name": name},
            "tools": ["catalog_prices", "handoff_to_human", "transfer_to_assistant"],
            **fields,
        }
        response = await self.api.client.post("/api/assistants", json=body, headers=self.admin)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    async def customer_writes(self, text: str, message_id: str) -> None:
        body = whatsapp_text(text, message_id=message_id)
        answer = await self.api.client.post(WEBHOOK, content=body, headers=meta_signature(body))
        assert answer.status_code == 200, answer.text
        runner = self.api.container.use_cases.job_runner()
        while await runner.run_due(100):
            pass

    async def conversation(self) -> dict[str, Any]:
        listed = await self.api.client.get("/api/conversations", headers=self.agent)
        [conversation] = listed.json()["items"]
        found: dict[str, Any] = conversation
        return found

    async def read(self, conversation_id: str, what: str) -> list[dict[str, Any]]:
        response = await self.api.client.get(
            f"/api/conversations/{conversation_id}/{what}", headers=self.agent
        )
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items


@pytest.fixture(params=BACKENDS)
async def world(
    request: pytest.FixtureRequest, engines: Engines, tmp_path: Path
) -> AsyncIterator[World]:
    engine = await engines.get(request.param)
    url = engine.url.render_as_string(hide_password=False)
    model, offline, sender = FakeLanguageModel(), FakeLanguageModel(), FakeChannelSender()

    def install(container: Container) -> None:
        senders = dict.fromkeys(Channel, sender)
        container.gateways.channel_senders.override(providers.Object(senders))
        models = {"openai": model, "offline": offline}
        container.gateways.language_models.override(providers.Object(models))

    settings = settings_for_tests(
        url,
        channels={**CHANNELS, "debounce_seconds": 0},
        storage={"local_dir": str(tmp_path / "media")},
        assistant={"provider": "definitions"},
    )
    async with open_api(settings, prepare=install) as api:
        opened = World(api, model, offline, sender)
        _, opened.admin = await api.user(Role.ADMIN)
        _, opened.agent = await api.user(Role.AGENT)
        yield opened
    await empty_tables(engine)


def _call(name: str, arguments: dict[str, Any], call_id: str = "call-1") -> ToolCall:
    return ToolCall(call_id, name, json.dumps(arguments))


async def test_the_model_reads_real_prices_through_the_tool_and_its_answer_is_delivered(
    world: World,
) -> None:
    await plan(world.api, world.admin, 15_000, name="Premium")
    front = await world.assistant("front-desk", channels=["whatsapp"])
    world.model.answer(tool_calls=[_call("catalog_prices", {"kind": "plan"})])
    world.model.answer("El plan Premium cuesta S/ 150.00")

    await world.customer_writes("¿cuánto cuesta el premium?", "wamid.price.1")

    tool_answer = world.model.requests[1].input[-1]
    assert isinstance(tool_answer, ToolOutput)
    assert "S/ 150.00" in tool_answer.output
    assert [m.text for m in world.sent.sent] == ["El plan Premium cuesta S/ 150.00"]
    conversation = await world.conversation()
    assert conversation["assistant"] == "front-desk"
    [reply, _] = await world.read(conversation["id"], "messages")
    assert (reply["author_id"], reply["author_version"]) == (front["id"], 1)
    [use] = await world.read(conversation["id"], "tool-uses")
    assert (use["assistant"], use["tool"], json.loads(use["arguments"])) == (
        "front-desk",
        "catalog_prices",
        {"kind": "plan"},
    )
    assert "S/ 150.00" in use["output"]


async def test_a_transfer_makes_the_specialist_the_conversations_assistant(world: World) -> None:
    await world.assistant("ventas", instructions="Vendes.")
    await world.assistant("recepcion", channels=["whatsapp"], handoffs=["ventas"])
    world.model.answer(tool_calls=[_call("transfer_to_assistant", {"assistant": "ventas"})])
    world.model.answer("Hola, soy ventas.")
    world.model.answer("Sigo contigo.")

    await world.customer_writes("quiero comprar", "wamid.transfer.1")
    await world.customer_writes("¿y el envío?", "wamid.transfer.2")

    assert [m.text for m in world.sent.sent] == ["Hola, soy ventas.", "Sigo contigo."]
    assert world.model.requests[2].instructions == "Vendes."
    assert (await world.conversation())["assistant"] == "ventas"


async def test_a_hand_off_stops_the_bot_until_an_agent_releases_it(world: World) -> None:
    await world.assistant("front-desk", channels=["whatsapp"])
    world.model.answer("Te paso con el equipo.", [_call("handoff_to_human", {"reason": "queja"})])

    await world.customer_writes("quiero reclamar", "wamid.handoff.1")
    await world.customer_writes("¿hola?", "wamid.handoff.2")

    assert [m.text for m in world.sent.sent] == ["Te paso con el equipo."]
    assert len(world.model.requests) == 1
    assert (await world.conversation())["status"] == "human"


async def test_with_the_provider_down_the_offline_fallback_answers(world: World) -> None:
    await world.assistant("front-desk", channels=["whatsapp"], fallback={"to": "offline"})
    world.model.fail_next()
    world.offline.answer("Respondo sin conexión.")

    await world.customer_writes("hola", "wamid.fallback.1")

    assert [m.text for m in world.sent.sent] == ["Respondo sin conexión."]
    assert world.offline.requests[0].model == "rules"
