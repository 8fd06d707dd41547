"""``talia serve``'s demo switched from the offline assistant to OpenAI or Hugging Face by
settings alone, on every database: the demo assistants follow TALIA_ASSISTANT__DEMO_* at
start, and a web chat visitor is answered by the provider's local server, through the real
adapters, with the configured model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from entrypoints.bootstrap import Talia
from entrypoints.seed import prepare_demo
from entrypoints.settings import Settings
from talia_core.shared.pagination import PageRequest
from tests.api import Api, open_api, settings_for_tests
from tests.integration.language.chat_server import TOKEN, FakeChatCompletions
from tests.integration.language.responses_server import API_KEY, FakeResponses
from tests.integration.language.scripted import ScriptedModelServer


def serving(database: str, media: Path, **overrides: Any) -> Settings:
    """``talia serve``'s settings with the demo data, plus ``overrides``."""
    return settings_for_tests(
        database,
        demo_data=True,
        channels={"debounce_seconds": 0},
        storage={"local_dir": str(media)},
        **overrides,
    )


async def versions(api: Api) -> dict[str, tuple[str, str, int]]:
    page = await Talia.of(api.container).assistants.list(PageRequest(limit=10))
    return {
        a.name: (a.definition.provider.value, a.definition.model, a.version) for a in page.items
    }


async def visitor_writes(api: Api, text: str) -> list[dict[str, Any]]:
    """A web chat visitor writes; jobs run as a worker would; the session's history."""
    session = await api.client.post("/api/webchat/sessions", json={"name": "Ana"})
    headers = {"Authorization": f"Bearer {session.json()['token']}"}
    sent = await api.client.post("/api/webchat/messages", json={"text": text}, headers=headers)
    assert sent.status_code == 202, sent.text
    runner = api.container.use_cases.job_runner()
    while await runner.run_due(100):
        pass
    history = await api.client.get("/api/webchat/messages", headers=headers)
    items: list[dict[str, Any]] = history.json()["items"]
    return items


@pytest.mark.parametrize(
    ("provider", "model"), [("openai", "gpt-4.1-nano"), ("huggingface", "Qwen/Qwen2.5-7B-Instruct")]
)
async def test_the_demo_switched_by_settings_answers_the_web_chat_with_the_configured_model(
    database_url: str,
    tmp_path: Path,
    responses: FakeResponses,
    chat: FakeChatCompletions,
    provider: str,
    model: str,
) -> None:
    server: ScriptedModelServer = responses if provider == "openai" else chat
    credentials = {
        "openai": {"api_key": API_KEY, "base_url": f"{responses.base_url}/v1"},
        "huggingface": {"token": TOKEN, "base_url": chat.base_url},
    }
    assert await prepare_demo(serving(database_url, tmp_path))  # the first start, offline
    switched = serving(
        database_url,
        tmp_path,
        assistant={"demo_provider": provider, "demo_model": model},
        **{provider: credentials[provider]},
    )

    assert not await prepare_demo(switched)  # a start with the new settings
    assert not await prepare_demo(switched)  # and another one
    server.will_answer("¡Hola! Te ayudo con tu invitación.")
    async with open_api(switched) as api:
        demo = await versions(api)
        history = await visitor_writes(api, "hola")

    assert demo == dict.fromkeys(("recepcion", "ventas"), (provider, model, 2))
    assert [(m["direction"], m["text"]) for m in history] == [
        ("in", "hola"),
        ("out", "¡Hola! Te ayudo con tu invitación."),
    ]
    assert [body["model"] for body in server.bodies()] == [model]
