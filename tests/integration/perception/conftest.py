"""The providers' local servers (``tests/perception_servers``), each started for one test,
and what the harnesses share: telling a server to fail its next request."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import attrs
import httpx
import pytest
from openai import AsyncOpenAI

from adapters.language.openai import sdk_client
from adapters.perception.huggingface_inference import InferenceModel
from talia_core.shared.vision import DetectedObject
from tests.fakeserver import LocalServer, Reply
from tests.integration.language.responses_server import openai_error
from tests.perception_servers.huggingface import TOKEN, FakeHuggingFaceInference, Task, hf_error
from tests.perception_servers.openai import API_KEY, FakeOpenAIPerception

RECOGNITION = "openai/whisper-large-v3-turbo"
SPEECH = "facebook/mms-tts-spa"
CAPTIONS = "Salesforce/blip-image-captioning-large"
DETECTION = "facebook/detr-resnet-50"
SIGNS = "prithivMLmods/Alphabet-Sign-Language-Detection"
TASKS = {
    RECOGNITION: Task.SPEECH_TO_TEXT,
    SPEECH: Task.TEXT_TO_SPEECH,
    CAPTIONS: Task.CAPTION,
    DETECTION: Task.DETECTION,
    SIGNS: Task.CLASSIFICATION,
}


@pytest.fixture
async def hugging_face() -> AsyncIterator[FakeHuggingFaceInference]:
    server = FakeHuggingFaceInference(tasks=TASKS)
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def openai_server() -> AsyncIterator[FakeOpenAIPerception]:
    server = FakeOpenAIPerception()
    await server.start()
    yield server
    await server.close()


@attrs.define
class Failing:
    """Tells a provider's server to fail its next request as the provider does."""

    server: LocalServer

    def error(self, message: str, status: int) -> dict[str, Any]:
        if isinstance(self.server, FakeHuggingFaceInference):
            return hf_error(message)
        kind = "server_error" if status >= 500 else "requests"
        return openai_error(message, kind=kind, code=None)

    def go_down(self) -> None:
        self.server.answer_next(Reply(503, self.error("Service Unavailable", 503)))

    def go_busy(self, status: int, retry_after: int) -> None:
        error = self.error("Rate limit reached, please retry later.", status)
        self.server.answer_next(Reply(status, error, {"Retry-After": str(retry_after)}))

    def go_silent(self) -> None:
        self.server.answer_next(Reply(stall=True))

    def requests(self) -> int:
        return len(self.server.requests)


class Sight(Failing):
    """Scripts what a provider's server sees in the next images."""

    server: FakeHuggingFaceInference | FakeOpenAIPerception

    def will_caption(self, text: str) -> None:
        self.server.caption = text

    def will_see(self, *objects: DetectedObject) -> None:
        self.server.objects = list(objects)


def hf_model(server_url: str, name: str, *, timeout_seconds: float = 5.0) -> InferenceModel:
    """Model ``name`` of the Hugging Face server at ``server_url``."""
    return InferenceModel(
        token=TOKEN, model=name, inference_url=server_url, timeout_seconds=timeout_seconds
    )


@attrs.define
class OpenAIClients:
    """SDK clients, each on an httpx client of its own timeout, closed after the test."""

    opened: list[httpx.AsyncClient] = attrs.field(factory=list)

    def sdk(self, base_url: str, *, timeout_seconds: float = 5.0) -> AsyncOpenAI:
        client = httpx.AsyncClient(timeout=timeout_seconds)
        self.opened.append(client)
        sdk = sdk_client(client, api_key=API_KEY, base_url=f"{base_url}/v1")
        assert sdk is not None
        return sdk


@pytest.fixture
async def openai_clients() -> AsyncIterator[OpenAIClients]:
    clients = OpenAIClients()
    yield clients
    for client in clients.opened:
        await client.aclose()
