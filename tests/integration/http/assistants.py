"""The real app answered by the assistants held as data, as their flows drive it.

An admin creates the definitions through ``/api/assistants``; a WhatsApp customer writes to
the webhook; jobs are run by calling the job runner, as a worker would; an agent reads what
happened. The language models are scripted fakes put in through the container (``model``
answers for provider openai, ``offline`` for the offline fallback), but for the providers
named in ``wired``, and huggingface, which are built as the container builds them (each
real provider has its contract tests against a local server speaking its wire format; the
settings point them at one). Every channel sends through one ``FakeChannelSender``; a web
chat message is shown on its live feed all the same. The tools are the real ones.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import attrs
from dependency_injector import providers

from adapters.memory.channels import FakeChannelSender
from adapters.memory.language import FakeLanguageModel
from entrypoints.container import Container
from entrypoints.wiring.language import language_models
from talia_core.assistants.language import ToolCall
from talia_core.conversations.vocabulary import Channel
from talia_core.identity.model import Role
from tests.api import Api, open_api, settings_for_tests
from tests.channels import CHANNELS, meta_signature, whatsapp_text

WEBHOOK = "/api/whatsapp/webhook"


def tool_call(name: str, arguments: dict[str, Any], call_id: str = "call-1") -> ToolCall:
    return ToolCall(call_id, name, json.dumps(arguments))


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
        await self.run_jobs()

    async def run_jobs(self) -> None:
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


@asynccontextmanager
async def open_world(
    database_url: str, tmp_path: Path, *, wired: Collection[str] = (), **settings: Any
) -> AsyncIterator[World]:
    """The app on ``database_url`` with an admin and an agent; ``settings`` override the
    test settings (a provider's local server, a resilience policy)."""
    model, offline, sender = FakeLanguageModel(), FakeLanguageModel(), FakeChannelSender()
    scripted = {"openai": model, "offline": offline}

    def install(container: Container) -> None:
        gateways = container.gateways
        gateways.channel_senders.override(providers.Object(dict.fromkeys(Channel, sender)))
        built = providers.Singleton(
            language_models, container.settings, gateways.outbound, gateways.breakers
        )
        fakes = {name: fake for name, fake in scripted.items() if name not in wired}
        gateways.language_models.override(providers.Singleton(dict, built, **fakes))

    test_settings = settings_for_tests(
        database_url,
        channels=CHANNELS,
        storage={"local_dir": str(tmp_path / "media")},
        assistant={"provider": "definitions"},
        **settings,
    )
    async with open_api(test_settings, prepare=install) as api:
        world = World(api, model, offline, sender)
        _, world.admin = await api.user(Role.ADMIN)
        _, world.agent = await api.user(Role.AGENT)
        yield world
