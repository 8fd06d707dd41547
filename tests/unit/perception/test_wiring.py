"""The hearing and seeing engines the container builds from ``TALIA_PERCEPTION__*``: none
configured answers that it is not configured, naming what is missing; the remote ones go
behind runners of their own."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from adapters.perception.espeak import EspeakTextToSpeech
from entrypoints.container import Container, build_container
from entrypoints.settings import SettingsError, load_settings
from talia_core.shared.errors import CapabilityNotConfigured
from talia_core.shared.speech import Audio
from tests.api import settings_for_tests
from tests.perception_servers.media import photo, spoken

CREDENTIALS: dict[str, Any] = {
    "openai": {"api_key": "sk-proj-test"},
    "huggingface": {"token": "hf_test"},
}
Use = Callable[[Container], Awaitable[object]]


def transcribe(container: Container) -> Awaitable[object]:
    return container.gateways.speech_to_text().transcribe(Audio(spoken(), "audio/wav"))


def synthesize(container: Container) -> Awaitable[object]:
    return container.gateways.text_to_speech().synthesize("hola")


def caption(container: Container) -> Awaitable[object]:
    return container.gateways.image_understanding().caption(photo())


def read_sign(container: Container) -> Awaitable[object]:
    return container.gateways.sign_language_reader().read(photo())


CAPABILITIES = [
    pytest.param("speech_to_text", transcribe, id="speech to text"),
    pytest.param("text_to_speech", synthesize, id="text to speech"),
    pytest.param("images", caption, id="images"),
]


def container_with(perception: dict[str, str], **more: Any) -> Container:
    settings = settings_for_tests("sqlite+aiosqlite:///:memory:", perception=perception, **more)
    return build_container(settings)


@pytest.mark.parametrize("use", [transcribe, caption, read_sign])
async def test_by_default_hearing_and_seeing_are_not_configured(use: Use) -> None:
    with pytest.raises(CapabilityNotConfigured, match="no provider is set"):
        await use(container_with({}))


def test_by_default_speech_is_espeak_ng_run_here() -> None:
    assert isinstance(container_with({}).gateways.text_to_speech(), EspeakTextToSpeech)


@pytest.mark.parametrize("provider", ["openai", "huggingface"])
@pytest.mark.parametrize(("capability", "use"), CAPABILITIES)
async def test_a_provider_without_its_credentials_is_not_configured_and_says_which(
    capability: str, use: Use, provider: str
) -> None:
    container = container_with({capability: provider})

    with pytest.raises(CapabilityNotConfigured, match=f"TALIA_{provider.upper()}__"):
        await use(container)
    assert container.gateways.breakers().snapshots() == {}


async def test_signs_without_a_token_are_not_configured() -> None:
    container = container_with({"signs": "huggingface", "sign_model": "someone/signs"})

    with pytest.raises(CapabilityNotConfigured, match="TALIA_HUGGINGFACE__TOKEN"):
        await read_sign(container)


@pytest.mark.parametrize("provider", ["openai", "huggingface"])
def test_each_remote_engine_has_a_runner_of_its_own(provider: str) -> None:
    perception = {"speech_to_text": provider, "text_to_speech": provider, "images": provider}
    if provider == "huggingface":
        perception |= {"signs": provider, "sign_model": "someone/signs"}
    container = container_with(perception, **{provider: CREDENTIALS[provider]})
    gateways = container.gateways

    gateways.speech_to_text(), gateways.text_to_speech(), gateways.image_understanding()
    gateways.sign_language_reader()

    names = {f"{provider}-{name}" for name in ("speech-to-text", "text-to-speech", "images")}
    if provider == "huggingface":
        names.add("huggingface-signs")
    assert set(gateways.breakers().snapshots()) == names


def test_reading_signs_needs_the_model_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TALIA_PERCEPTION__SIGNS", "huggingface")

    with pytest.raises(SettingsError, match="TALIA_PERCEPTION__SIGN_MODEL"):
        load_settings(_env_file=None)
