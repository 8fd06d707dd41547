"""Hugging Face's image to text, object detection and image classification against a local
server speaking its inference wire format: what goes over the wire, and the ports'
contracts."""

from __future__ import annotations

from collections.abc import Awaitable

import attrs
import pytest

from adapters.perception.huggingface_vision import (
    HuggingFaceImageUnderstanding,
    HuggingFaceSignLanguageReader,
)
from talia_core.shared.errors import ExternalServiceUnavailable
from tests.contracts.vision.image_understanding import (
    ImageUnderstandingHarness,
    RemoteImageUnderstandingContract,
)
from tests.contracts.vision.sign_language_reader import (
    RemoteSignLanguageReaderContract,
    SignLanguageReaderHarness,
)
from tests.fakeserver import Reply
from tests.integration.perception.conftest import (
    CAPTIONS,
    DETECTION,
    SIGNS,
    Failing,
    Sight,
    hf_model,
)
from tests.perception_servers.huggingface import TOKEN, FakeHuggingFaceInference
from tests.perception_servers.media import photo


def seeing(server_url: str, *, timeout_seconds: float = 5.0) -> HuggingFaceImageUnderstanding:
    return HuggingFaceImageUnderstanding(
        captions=hf_model(server_url, CAPTIONS, timeout_seconds=timeout_seconds),
        detections=hf_model(server_url, DETECTION, timeout_seconds=timeout_seconds),
    )


@attrs.define
class Seeing(Sight):
    server: FakeHuggingFaceInference

    @property
    def engine(self) -> HuggingFaceImageUnderstanding:
        return seeing(self.server.base_url)

    def call(
        self, *, base_url: str | None = None, timeout_seconds: float = 5.0
    ) -> Awaitable[object]:
        engine = seeing(base_url or self.server.base_url, timeout_seconds=timeout_seconds)
        return engine.caption(photo())


@attrs.define
class Signs(Failing):
    server: FakeHuggingFaceInference

    @property
    def reader(self) -> HuggingFaceSignLanguageReader:
        return HuggingFaceSignLanguageReader(hf_model(self.server.base_url, SIGNS))

    def will_read(self, *labels: tuple[str, float]) -> None:
        self.server.labels = list(labels)

    def call(
        self, *, base_url: str | None = None, timeout_seconds: float = 5.0
    ) -> Awaitable[object]:
        url = base_url or self.server.base_url
        reader = HuggingFaceSignLanguageReader(
            hf_model(url, SIGNS, timeout_seconds=timeout_seconds)
        )
        return reader.read(photo())


class HuggingFaceImageUnderstandingTests(RemoteImageUnderstandingContract):
    @pytest.fixture
    def harness(self, hugging_face: FakeHuggingFaceInference) -> ImageUnderstandingHarness:
        return Seeing(hugging_face)


class HuggingFaceSignLanguageReaderTests(RemoteSignLanguageReaderContract):
    @pytest.fixture
    def harness(self, hugging_face: FakeHuggingFaceInference) -> SignLanguageReaderHarness:
        return Signs(hugging_face)


# ------------------------------------------------------------------------------ the wire


@pytest.mark.parametrize(
    ("ask", "path"),
    [("caption", f"/models/{CAPTIONS}"), ("detect", f"/models/{DETECTION}")],
)
async def test_the_image_is_posted_raw_to_each_tasks_model_with_its_type(
    hugging_face: FakeHuggingFaceInference, ask: str, path: str
) -> None:
    picture = photo(format="JPEG")

    await getattr(Seeing(hugging_face).engine, ask)(picture)

    [request] = hugging_face.requests
    assert (request.method, request.path) == ("POST", path)
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["content-type"] == "image/jpeg"
    assert request.body == picture.content


async def test_the_sign_model_is_asked_for_its_labels(
    hugging_face: FakeHuggingFaceInference,
) -> None:
    hugging_face.labels = [("L", 0.7)]

    reading = await Signs(hugging_face).reader.read(photo())

    assert [request.path for request in hugging_face.requests] == [f"/models/{SIGNS}"]
    assert (reading.label, reading.score, reading.alternatives) == ("L", 0.7, ())


@pytest.mark.parametrize(
    "answer",
    [
        [{"score": 0.9, "label": "cup"}],
        [{"score": 0.9, "label": "cup", "box": {"xmin": "a", "ymin": 0, "xmax": 9, "ymax": 9}}],
        [{"score": 1.7, "label": "cup", "box": {"xmin": 0, "ymin": 0, "xmax": 9, "ymax": 9}}],
        {"error": None},
    ],
    ids=["no box", "a corner not a number", "a score past 1", "not a list"],
)
async def test_detections_not_of_the_tasks_shape_are_unavailable(
    hugging_face: FakeHuggingFaceInference, answer: object
) -> None:
    hugging_face.answer_next(Reply(200, answer))  # type: ignore[arg-type]

    with pytest.raises(ExternalServiceUnavailable, match="unreadable"):
        await Seeing(hugging_face).engine.detect(photo())


@pytest.mark.parametrize("answer", [[], [{"generated_text": "  "}]], ids=["nothing", "blank"])
async def test_a_caption_answer_without_text_is_unavailable(
    hugging_face: FakeHuggingFaceInference, answer: list[object]
) -> None:
    hugging_face.answer_next(Reply(200, answer))  # type: ignore[arg-type]

    with pytest.raises(ExternalServiceUnavailable, match="unreadable"):
        await Seeing(hugging_face).engine.caption(photo())


async def test_a_classifier_that_answers_no_label_is_unavailable(
    hugging_face: FakeHuggingFaceInference,
) -> None:
    hugging_face.labels = []

    with pytest.raises(ExternalServiceUnavailable, match="no label"):
        await Signs(hugging_face).reader.read(photo())
