"""The demo assistants follow TALIA_ASSISTANT__DEMO_PROVIDER and __DEMO_MODEL at every start,
over the in-memory units; one an admin edited is left alone."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator

import pytest

from entrypoints.bootstrap import Talia
from entrypoints.seed import DEMO_ADMIN, DemoModel, follow_demo_model, seed_demo_data
from entrypoints.settings import AssistantSettings, SettingsError, load_settings
from entrypoints.wiring.capabilities import MODELS
from talia_core.assistants.definition import Assistant, Definition, FallbackKind, Provider
from talia_core.identity.model import Role
from talia_core.shared.pagination import PageRequest
from tests.api import open_api, settings_for_tests

OPENAI = DemoModel(Provider.OPENAI, "gpt-4.1-mini")
OFFLINE = DemoModel(Provider.OFFLINE, "rules")


@pytest.fixture
async def talia() -> AsyncIterator[Talia]:
    async with open_api(
        settings_for_tests("sqlite+aiosqlite:///:memory:"), in_memory=True
    ) as opened:
        yield Talia.of(opened.container)


async def demo(talia: Talia) -> dict[str, Assistant]:
    page = await talia.assistants.list(PageRequest(limit=10))
    return {assistant.name: assistant for assistant in page.items}


async def answering(talia: Talia) -> dict[str, tuple[str, str, int]]:
    return {
        name: (a.definition.provider.value, a.definition.model, a.version)
        for name, a in (await demo(talia)).items()
    }


async def test_moving_from_offline_to_openai_makes_one_new_version_by_the_demo_admin(
    talia: Talia,
) -> None:
    await seed_demo_data(talia)
    admin = await talia.users.account_by_email(DEMO_ADMIN)
    assert admin is not None

    moved = await follow_demo_model(talia, OPENAI)

    assert sorted(moved) == ["recepcion", "ventas"]
    assert await answering(talia) == {
        "recepcion": ("openai", "gpt-4.1-mini", 2),
        "ventas": ("openai", "gpt-4.1-mini", 2),
    }
    assert {a.current.created_by for a in (await demo(talia)).values()} == {admin.id}


async def test_following_the_same_model_again_makes_no_version(talia: Talia) -> None:
    await seed_demo_data(talia)
    await follow_demo_model(talia, OPENAI)

    again = await follow_demo_model(talia, OPENAI)

    assert again == []
    assert {version for _, _, version in (await answering(talia)).values()} == {2}


async def test_unchanged_settings_make_no_version(talia: Talia) -> None:
    await seed_demo_data(talia)

    assert await follow_demo_model(talia, OFFLINE) == []
    assert {version for _, _, version in (await answering(talia)).values()} == {1}


async def test_an_assistant_an_admin_edited_is_left_alone_and_named_in_a_warning(
    talia: Talia, caplog: pytest.LogCaptureFixture
) -> None:
    await seed_demo_data(talia)
    admin = await talia.users.account_by_email(DEMO_ADMIN)
    assert admin is not None
    ventas = (await demo(talia))["ventas"]
    await talia.assistants.revise(ventas.id, {"instructions": "Vendes con calma."}, by=admin.id)

    with caplog.at_level(logging.WARNING, logger="talia.seed"):
        moved = await follow_demo_model(talia, OPENAI)

    assert moved == ["recepcion"]
    after = await demo(talia)
    assert after["ventas"].version == 2
    assert after["ventas"].definition.provider is Provider.OFFLINE
    assert after["ventas"].definition.instructions == "Vendes con calma."
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "ventas" in warning.getMessage()


async def test_a_first_seed_writes_the_demo_assistants_on_the_configured_model(
    talia: Talia,
) -> None:
    await seed_demo_data(talia, OPENAI)

    assert await follow_demo_model(talia, OPENAI) == []
    assert await answering(talia) == {
        "recepcion": ("openai", "gpt-4.1-mini", 1),
        "ventas": ("openai", "gpt-4.1-mini", 1),
    }
    fallbacks = {a.definition.fallback.to for a in (await demo(talia)).values()}
    assert fallbacks == {FallbackKind.HUMAN}


async def test_without_the_demo_data_an_assistant_of_a_demo_name_is_not_touched(
    talia: Talia,
) -> None:
    owner = await talia.users.provision(
        email="boss@example.com", name="Boss", password="a-strong-pass-42", role=Role.ADMIN
    )
    definition = Definition(provider="offline", model="rules", instructions="Atiendo.")
    await talia.assistants.create("recepcion", definition, by=owner.id)

    assert await follow_demo_model(talia, OPENAI) == []
    assert await answering(talia) == {"recepcion": ("offline", "rules", 1)}


# --- settings ----------------------------------------------------------------------------


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No TALIA_* variable from the outside."""
    for name in list(os.environ):
        if name.upper().startswith("TALIA_"):
            monkeypatch.delenv(name)
    return monkeypatch


@pytest.mark.parametrize(
    ("provider", "variable", "value"),
    [
        ("openai", "TALIA_OPENAI__API_KEY", "sk-test"),
        ("huggingface", "TALIA_HUGGINGFACE__TOKEN", "hf_test"),
    ],
)
def test_a_demo_provider_without_its_credentials_stops_start_up_naming_them(
    environment: pytest.MonkeyPatch, provider: str, variable: str, value: str
) -> None:
    environment.setenv("TALIA_ASSISTANT__DEMO_PROVIDER", provider)

    with pytest.raises(SettingsError, match=f"DEMO_PROVIDER is {provider}, which needs {variable}"):
        load_settings(_env_file=None)

    environment.setenv(variable, value)
    assert load_settings(_env_file=None).assistant.demo_provider == provider


def test_a_demo_model_its_provider_does_not_serve_stops_start_up_naming_it(
    environment: pytest.MonkeyPatch,
) -> None:
    environment.setenv("TALIA_ASSISTANT__DEMO_PROVIDER", "openai")
    environment.setenv("TALIA_OPENAI__API_KEY", "sk-test")
    environment.setenv("TALIA_ASSISTANT__DEMO_MODEL", "Qwen/Qwen2.5-7B-Instruct")

    with pytest.raises(SettingsError, match=r"TALIA_ASSISTANT__DEMO_MODEL: .*not one of openai's"):
        load_settings(_env_file=None)


@pytest.mark.parametrize("provider", list(Provider))
def test_an_empty_demo_model_is_a_model_the_provider_serves(provider: Provider) -> None:
    chosen = DemoModel.of(AssistantSettings(demo_provider=provider))

    assert chosen.provider is provider
    assert chosen.model in MODELS[provider]


def test_a_chosen_demo_model_is_kept() -> None:
    settings = AssistantSettings(demo_provider="openai", demo_model="gpt-5-mini")

    assert DemoModel.of(settings) == DemoModel(Provider.OPENAI, "gpt-5-mini")
