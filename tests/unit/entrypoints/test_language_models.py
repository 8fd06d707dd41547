"""The language models the container builds from the settings, one per provider."""

from __future__ import annotations

import json
from pathlib import Path

import attrs
import pytest

from adapters.language.offline import OfflineLanguageModel
from entrypoints.container import build_container
from entrypoints.settings import SettingsError, load_settings
from entrypoints.wiring.choices import DEMO_ASSISTANT
from talia_core.assistants.language import ModelRequest, Role, Said
from talia_core.shared.errors import ExternalServiceUnavailable
from tests.api import settings_for_tests

HELLO = ModelRequest("gpt-4.1-mini", (Said(Role.USER, "Hola"),), instructions="Sé breve.")


def test_the_container_builds_a_model_of_each_provider_the_remote_ones_behind_runners() -> None:
    settings = settings_for_tests(
        "sqlite+aiosqlite:///:memory:",
        openai={"api_key": "sk-proj-test"},
        huggingface={"token": "hf_test"},
    )
    container = build_container(settings)

    models = container.gateways.language_models()

    assert set(models) == {"openai", "huggingface", "offline"}
    assert {"openai", "huggingface"} <= set(container.gateways.breakers().snapshots())
    assert isinstance(models["offline"], OfflineLanguageModel)


async def test_the_offline_model_answers_by_the_offline_assistants_definition(
    tmp_path: Path,
) -> None:
    definition = json.loads(DEMO_ASSISTANT.read_text(encoding="utf-8"))
    definition["greeting"]["reply"] = "¡Hola! Soy la asistente de la prueba."
    source = tmp_path / "assistant.json"
    source.write_text(json.dumps(definition), encoding="utf-8")
    settings = settings_for_tests(
        "sqlite+aiosqlite:///:memory:", assistant={"definition": str(source)}
    )

    model = build_container(settings).gateways.language_models()["offline"]
    reply = await model.complete(attrs.evolve(HELLO, model="rules"))

    assert (reply.text, reply.model) == ("¡Hola! Soy la asistente de la prueba.", "rules")


@pytest.mark.parametrize("provider", ["openai", "huggingface"])
async def test_a_provider_without_credentials_is_unavailable(provider: str) -> None:
    settings = settings_for_tests("sqlite+aiosqlite:///:memory:", resilience={"retry_attempts": 1})
    models = build_container(settings).gateways.language_models()

    with pytest.raises(ExternalServiceUnavailable, match="not configured"):
        await models[provider].complete(HELLO)
    with pytest.raises(ExternalServiceUnavailable, match="not configured"):
        [event async for event in models[provider].stream(HELLO)]


def test_hugging_faces_router_takes_only_hugging_face_tokens() -> None:
    with pytest.raises(SettingsError, match="TALIA_HUGGINGFACE"):
        load_settings(_env_file=None, huggingface={"token": "sk-not-a-hf-token"})

    load_settings(
        _env_file=None,
        huggingface={"token": "ollama", "base_url": "http://127.0.0.1:11434/v1"},
    )
