"""The Hugging Face embedder against a local server speaking its feature extraction wire
format (``features_server.FakeFeatureExtraction``), as the router and as a server of its
own: what goes over the wire, how each shape of answer is read, and the embedder
contract."""

from __future__ import annotations

import json
import math

import attrs
import pytest

from adapters.embeddings.huggingface import HuggingFaceEmbedder
from talia_core.knowledge.ports import Embedder
from talia_core.shared.errors import ExternalServiceUnavailable
from tests.contracts.knowledge.embedder import (
    ANSWER,
    QUESTION,
    TEXTS,
    UNRELATED,
    RemoteEmbedderContract,
    RemoteEmbedderHarness,
)
from tests.fakeserver import Reply
from tests.integration.embeddings.conftest import MODEL, ROUTE
from tests.integration.embeddings.features_server import TOKEN, FakeFeatureExtraction, hf_error


def through_router(
    router_url: str, *, timeout_seconds: float = 5.0, batch_size: int = 32
) -> HuggingFaceEmbedder:
    return HuggingFaceEmbedder(
        token=TOKEN,
        model=MODEL,
        router_url=router_url,
        timeout_seconds=timeout_seconds,
        batch_size=batch_size,
    )


@pytest.fixture
def embedder(router: FakeFeatureExtraction) -> HuggingFaceEmbedder:
    return through_router(router.base_url)


def approx(vector: list[float]) -> object:
    return pytest.approx(vector, abs=1e-5)


# ------------------------------------------------------------------------------ contract


@attrs.frozen
class RouterHarness:
    router: FakeFeatureExtraction

    @property
    def embedder(self) -> Embedder:
        return through_router(self.base_url)

    @property
    def base_url(self) -> str:
        return self.router.base_url

    def embedder_at(self, base_url: str, *, timeout_seconds: float) -> Embedder:
        return through_router(base_url, timeout_seconds=timeout_seconds)

    def embedder_in_batches_of(self, size: int) -> Embedder:
        return through_router(self.base_url, batch_size=size)

    def go_down(self) -> None:
        self.router.answer_next(Reply(503, hf_error("Service Unavailable")))

    def go_silent(self) -> None:
        self.router.answer_next(Reply(stall=True))

    def go_busy(self, status: int, retry_after: int) -> None:
        error = hf_error("You have exceeded your monthly included credits for Inference.")
        self.router.answer_next(Reply(status, error, {"Retry-After": str(retry_after)}))

    def refuse_next(self) -> None:
        self.router.answer_next(Reply(400, hf_error("Input should be a valid list of strings")))

    def requests(self) -> int:
        return len(self.router.requests)


class HuggingFaceEmbedderTests(RemoteEmbedderContract):
    @pytest.fixture
    def harness(self, router: FakeFeatureExtraction) -> RemoteEmbedderHarness:
        router.space.means(QUESTION, [1.0, 0.2])
        router.space.means(ANSWER, [0.9, 0.3])
        router.space.means(UNRELATED, [0.1, -1.0])
        return RouterHarness(router)

    @pytest.fixture
    def unconfigured(self, router: FakeFeatureExtraction) -> Embedder:
        return HuggingFaceEmbedder(token="", model=MODEL, router_url=router.base_url)


# ------------------------------------------------------------------------------ the wire


async def test_the_router_is_asked_for_the_models_feature_extraction_with_the_token(
    router: FakeFeatureExtraction, embedder: HuggingFaceEmbedder
) -> None:
    await embedder.embed([QUESTION, ANSWER])

    [request] = router.requests
    assert (request.method, request.path) == ("POST", ROUTE)
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.json() == {"inputs": [QUESTION, ANSWER]}
    assert embedder.model == MODEL


async def test_a_server_of_its_own_is_asked_at_its_base_url(
    endpoint: FakeFeatureExtraction,
) -> None:
    embedder = HuggingFaceEmbedder(token=TOKEN, model="BAAI/bge-m3", base_url=endpoint.base_url)

    vectors = await embedder.embed(TEXTS)

    [request] = endpoint.requests
    assert (request.method, request.path) == ("POST", "/")
    assert request.json() == {"inputs": list(TEXTS)}
    assert vectors == [approx(endpoint.space.vector(text)) for text in TEXTS]
    assert embedder.model == "BAAI/bge-m3"


async def test_vectors_are_scaled_to_unit_length(
    router: FakeFeatureExtraction, embedder: HuggingFaceEmbedder
) -> None:
    [vector] = await embedder.embed([QUESTION])

    assert math.hypot(*vector) == pytest.approx(1.0)
    assert vector == approx(router.space.vector(QUESTION))


async def test_token_vectors_of_a_plain_transformer_are_mean_pooled(
    router: FakeFeatureExtraction, embedder: HuggingFaceEmbedder
) -> None:
    router.token_level, router.ragged = True, False

    vectors = await embedder.embed(TEXTS)

    assert len(router.requests) == 1
    assert vectors == [approx(router.space.vector(text)) for text in TEXTS]


async def test_token_vectors_of_texts_of_different_lengths_are_asked_a_text_at_a_time(
    router: FakeFeatureExtraction, embedder: HuggingFaceEmbedder
) -> None:
    router.token_level, router.ragged = True, True

    vectors = await embedder.embed(TEXTS)

    assert [body["inputs"] for body in router.bodies()] == [
        list(TEXTS),
        *[[text] for text in TEXTS],
    ]
    assert vectors == [approx(router.space.vector(text)) for text in TEXTS]


async def test_a_model_still_loading_is_unavailable(
    router: FakeFeatureExtraction, embedder: HuggingFaceEmbedder
) -> None:
    loading = hf_error(f"Model {MODEL} is currently loading", estimated_time=20.0)
    router.answer_next(Reply(503, loading))

    with pytest.raises(ExternalServiceUnavailable, match="currently loading"):
        await embedder.embed(TEXTS)


@pytest.mark.parametrize(
    ("texts", "answer"),
    [
        ([QUESTION, ANSWER], [[0.1, 0.2]]),  # a vector for one of two texts
        ([QUESTION, ANSWER], [0.1, 0.2]),  # one vector, not one per text
        ([QUESTION, ANSWER], {"embeddings": [[0.1, 0.2], [0.3, 0.4]]}),  # not an array
        ([QUESTION], [["a", "b"]]),  # not numbers
    ],
)
async def test_an_answer_that_is_not_a_vector_per_text_is_unavailable(
    router: FakeFeatureExtraction, embedder: HuggingFaceEmbedder, texts: list[str], answer: object
) -> None:
    router.answer_next(Reply(200, json.dumps(answer).encode()))

    with pytest.raises(ExternalServiceUnavailable, match="unreadable"):
        await embedder.embed(texts)


async def test_an_answer_that_is_not_json_is_unavailable(
    router: FakeFeatureExtraction, embedder: HuggingFaceEmbedder
) -> None:
    router.answer_next(Reply(200, b"<html>Bad gateway</html>"))

    with pytest.raises(ExternalServiceUnavailable, match="unreadable"):
        await embedder.embed([QUESTION])
