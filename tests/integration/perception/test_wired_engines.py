"""The engines as the container wires them from the settings, against the providers' local
servers: each asks where its settings say, behind its runner (a provider down once is
asked again)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from entrypoints.container import Container, build_container, close_resources, open_resources
from talia_core.shared.speech import Audio
from tests.api import settings_for_tests
from tests.fakeserver import Reply
from tests.integration.perception.conftest import CAPTIONS, RECOGNITION, SIGNS
from tests.perception_servers.huggingface import TOKEN, FakeHuggingFaceInference
from tests.perception_servers.media import photo, spoken
from tests.perception_servers.openai import API_KEY, FakeOpenAIPerception

QUICK_RETRIES = {"retry_attempts": 2, "retry_base_delay_seconds": 0.01}


async def opened(**settings: Any) -> Container:
    container = build_container(
        settings_for_tests("sqlite+aiosqlite:///:memory:", resilience=QUICK_RETRIES, **settings)
    )
    await open_resources(container)
    return container


@pytest.fixture
async def hugging_face_wired(
    hugging_face: FakeHuggingFaceInference,
) -> AsyncIterator[Container]:
    container = await opened(
        huggingface={"token": TOKEN},
        perception={
            "speech_to_text": "huggingface",
            "images": "huggingface",
            "signs": "huggingface",
            "sign_model": SIGNS,
            "huggingface_url": hugging_face.base_url,
        },
    )
    yield container
    await close_resources(container)


@pytest.fixture
async def openai_wired(openai_server: FakeOpenAIPerception) -> AsyncIterator[Container]:
    container = await opened(
        openai={"api_key": API_KEY, "base_url": f"{openai_server.base_url}/v1"},
        perception={"speech_to_text": "openai", "text_to_speech": "openai", "images": "openai"},
    )
    yield container
    await close_resources(container)


async def test_hugging_face_engines_ask_the_configured_models_at_the_configured_url(
    hugging_face: FakeHuggingFaceInference, hugging_face_wired: Container
) -> None:
    gateways = hugging_face_wired.gateways
    hugging_face.will_hear("hola")

    heard = await gateways.speech_to_text().transcribe(Audio(spoken(), "audio/wav"))
    caption = await gateways.image_understanding().caption(photo())
    reading = await gateways.sign_language_reader().read(photo())

    assert (heard.text, caption, reading.label) == ("hola", hugging_face.caption, "A")
    assert [request.path for request in hugging_face.requests] == [
        f"/models/{RECOGNITION}",
        f"/models/{CAPTIONS}",
        f"/models/{SIGNS}",
    ]


async def test_a_provider_down_once_is_asked_again_by_the_runner(
    openai_server: FakeOpenAIPerception, openai_wired: Container
) -> None:
    openai_server.answer_next(Reply(503, {"error": {"message": "Overloaded", "code": None}}))
    openai_server.will_hear("quiero una cita")

    heard = await openai_wired.gateways.speech_to_text().transcribe(Audio(spoken(), "audio/wav"))

    assert heard.text == "quiero una cita"
    assert len(openai_server.requests) == 2


async def test_openai_engines_speak_and_see_through_the_shared_client(
    openai_server: FakeOpenAIPerception, openai_wired: Container
) -> None:
    gateways = openai_wired.gateways

    audio = await gateways.text_to_speech().synthesize("Hola.")
    caption = await gateways.image_understanding().caption(photo())

    assert audio.mime_type == "audio/wav"
    assert caption == openai_server.caption
    assert [request.path for request in openai_server.requests] == [
        "/v1/audio/speech",
        "/v1/responses",
    ]
