"""OpenAI's vision through the Responses API against a local server speaking its wire
format: what goes over the wire, and the image understanding contract."""

from __future__ import annotations

import base64
from collections.abc import Awaitable

import attrs
import pytest

from adapters.perception.openai_vision import OBJECTS_SCHEMA, OpenAIImageUnderstanding
from talia_core.shared.errors import ExternalServiceUnavailable, RequestRefused
from talia_core.shared.vision import Box, DetectedObject
from tests.contracts.vision.image_understanding import (
    ImageUnderstandingHarness,
    RemoteImageUnderstandingContract,
)
from tests.fakeserver import Reply
from tests.integration.perception.conftest import OpenAIClients, Sight
from tests.perception_servers.media import photo
from tests.perception_servers.openai import FakeOpenAIPerception

MODEL = "gpt-4.1-mini"


@attrs.define
class Seeing(Sight):
    server: FakeOpenAIPerception
    clients: OpenAIClients

    @property
    def engine(self) -> OpenAIImageUnderstanding:
        return OpenAIImageUnderstanding(self.clients.sdk(self.server.base_url), model=MODEL)

    def call(
        self, *, base_url: str | None = None, timeout_seconds: float = 5.0
    ) -> Awaitable[object]:
        sdk = self.clients.sdk(base_url or self.server.base_url, timeout_seconds=timeout_seconds)
        return OpenAIImageUnderstanding(sdk).caption(photo())


class OpenAIImageUnderstandingTests(RemoteImageUnderstandingContract):
    @pytest.fixture
    def harness(
        self, openai_server: FakeOpenAIPerception, openai_clients: OpenAIClients
    ) -> ImageUnderstandingHarness:
        return Seeing(openai_server, openai_clients)


@pytest.fixture
def engine(
    openai_server: FakeOpenAIPerception, openai_clients: OpenAIClients
) -> OpenAIImageUnderstanding:
    return Seeing(openai_server, openai_clients).engine


# ------------------------------------------------------------------------------ the wire


async def test_the_image_goes_as_a_data_url_beside_the_question_and_is_not_stored(
    openai_server: FakeOpenAIPerception, engine: OpenAIImageUnderstanding
) -> None:
    picture = photo(format="JPEG")

    await engine.caption(picture, language="es")

    [request] = openai_server.requests
    assert (request.method, request.path) == ("POST", "/v1/responses")
    body = request.json()
    assert (body["model"], body["store"], body["text"]) == (
        MODEL,
        False,
        {"format": {"type": "text"}},
    )
    [message] = body["input"]
    [question, image] = message["content"]
    assert message["role"] == "user"
    assert question["type"] == "input_text"
    assert question["text"].endswith("language es.")
    assert image["type"] == "input_image"
    assert (
        image["image_url"] == "data:image/jpeg;base64," + base64.b64encode(picture.content).decode()
    )


async def test_objects_are_asked_as_strict_json_in_pixels_of_the_images_size(
    openai_server: FakeOpenAIPerception, engine: OpenAIImageUnderstanding
) -> None:
    openai_server.objects = [DetectedObject("taza", 0.8, Box(10, 10, 60, 50))]

    found = await engine.detect(photo(640, 480))

    body = openai_server.requests[0].json()
    assert body["text"] == {
        "format": {
            "type": "json_schema",
            "name": "objects",
            "strict": True,
            "schema": OBJECTS_SCHEMA,
        }
    }
    assert "640x480 pixels" in body["input"][0]["content"][0]["text"]
    assert found == (DetectedObject("taza", 0.8, Box(10, 10, 60, 50)),)


async def test_a_model_that_refuses_to_look_is_refused(
    openai_server: FakeOpenAIPerception, engine: OpenAIImageUnderstanding
) -> None:
    openai_server.refusal = "I can't help with that."

    with pytest.raises(RequestRefused, match="can't help"):
        await engine.caption(photo())


async def test_objects_that_are_not_the_schemas_are_unavailable(
    openai_server: FakeOpenAIPerception, engine: OpenAIImageUnderstanding
) -> None:
    openai_server.answer_next(Reply(200, _answer_with_text('{"objects": [{"label": 1}]}')))

    with pytest.raises(ExternalServiceUnavailable, match="schema"):
        await engine.detect(photo())


def _answer_with_text(text: str) -> dict[str, object]:
    part = {"type": "output_text", "annotations": [], "text": text}
    message = {"id": "msg_1", "type": "message", "status": "completed", "role": "assistant"}
    return {
        "id": "resp_1",
        "object": "response",
        "created_at": 1741476542,
        "status": "completed",
        "model": MODEL,
        "output": [{**message, "content": [part]}],
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
    }
