"""The OpenAI embedder against a local server speaking its embeddings wire format
(``embeddings_server.FakeEmbeddings``): what goes over the wire, how the answers are read,
and the embedder contract."""

from __future__ import annotations

from collections.abc import AsyncIterator

import attrs
import httpx
import pytest

from adapters.embeddings.openai import OpenAIEmbedder
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
from tests.integration.embeddings.embeddings_server import FakeEmbeddings
from tests.integration.language.responses_server import API_KEY, openai_error

MODEL = "text-embedding-3-small"


def embedder_at(client: httpx.AsyncClient, base_url: str, **limits: int) -> OpenAIEmbedder:
    return OpenAIEmbedder(client, api_key=API_KEY, model=MODEL, base_url=f"{base_url}/v1", **limits)


@pytest.fixture
def embedder(client: httpx.AsyncClient, embeddings: FakeEmbeddings) -> OpenAIEmbedder:
    return embedder_at(client, embeddings.base_url)


# ------------------------------------------------------------------------------ contract


@attrs.define
class EmbeddingsHarness:
    embeddings: FakeEmbeddings
    client: httpx.AsyncClient
    clients: list[httpx.AsyncClient] = attrs.field(factory=list)

    @property
    def embedder(self) -> Embedder:
        return embedder_at(self.client, self.base_url)

    @property
    def base_url(self) -> str:
        return self.embeddings.base_url

    def embedder_at(self, base_url: str, *, timeout_seconds: float) -> Embedder:
        client = httpx.AsyncClient(timeout=timeout_seconds)
        self.clients.append(client)
        return embedder_at(client, base_url)

    def embedder_in_batches_of(self, size: int) -> Embedder:
        return embedder_at(self.client, self.base_url, max_texts=size)

    def go_down(self) -> None:
        error = openai_error("The server had an error.", kind="server_error", code=None)
        self.embeddings.answer_next(Reply(503, error))

    def go_silent(self) -> None:
        self.embeddings.answer_next(Reply(stall=True))

    def go_busy(self, status: int, retry_after: int) -> None:
        error = openai_error(
            "Rate limit reached for text-embedding-3-small on tokens per min (TPM).",
            kind="tokens",
            code="rate_limit_exceeded",
        )
        self.embeddings.answer_next(Reply(status, error, {"Retry-After": str(retry_after)}))

    def refuse_next(self) -> None:
        message = "This model's maximum context length is 8192 tokens."
        error = openai_error(message, kind="invalid_request_error", code=None, param="input")
        self.embeddings.answer_next(Reply(400, error))

    def requests(self) -> int:
        return len(self.embeddings.requests)


class OpenAIEmbedderTests(RemoteEmbedderContract):
    @pytest.fixture
    async def harness(
        self, embeddings: FakeEmbeddings, client: httpx.AsyncClient
    ) -> AsyncIterator[RemoteEmbedderHarness]:
        embeddings.space.means(QUESTION, [1.0, 0.2])
        embeddings.space.means(ANSWER, [0.9, 0.3])
        embeddings.space.means(UNRELATED, [0.1, -1.0])
        harness = EmbeddingsHarness(embeddings, client)
        yield harness
        for opened in harness.clients:
            await opened.aclose()

    @pytest.fixture
    def unconfigured(self, client: httpx.AsyncClient, embeddings: FakeEmbeddings) -> Embedder:
        return OpenAIEmbedder(client, api_key="", base_url=f"{embeddings.base_url}/v1")


# ------------------------------------------------------------------------------ the wire


async def test_texts_are_posted_to_embeddings_as_floats_with_the_bearer_key(
    embeddings: FakeEmbeddings, embedder: OpenAIEmbedder
) -> None:
    await embedder.embed([QUESTION, ANSWER])

    [request] = embeddings.requests
    assert (request.method, request.path) == ("POST", "/v1/embeddings")
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert request.json() == {
        "model": MODEL,
        "input": [QUESTION, ANSWER],
        "encoding_format": "float",
    }


async def test_the_vectors_follow_the_texts_whatever_order_the_answer_lists_them_in(
    embeddings: FakeEmbeddings, embedder: OpenAIEmbedder
) -> None:
    vectors = await embedder.embed(TEXTS)

    assert vectors == [embeddings.space.vector(text) for text in TEXTS]


async def test_shortened_vectors_are_asked_for_and_are_a_space_of_their_own(
    client: httpx.AsyncClient, embeddings: FakeEmbeddings
) -> None:
    embedder = OpenAIEmbedder(
        client,
        api_key=API_KEY,
        model="text-embedding-3-large",
        dimensions=256,
        base_url=f"{embeddings.base_url}/v1",
    )

    [vector] = await embedder.embed([QUESTION])

    assert embeddings.bodies()[0]["dimensions"] == 256
    assert len(vector) == 256
    assert embedder.model == "text-embedding-3-large@256"


async def test_a_request_holds_no_more_characters_than_its_budget(
    client: httpx.AsyncClient, embeddings: FakeEmbeddings
) -> None:
    texts = ["a" * 40, "b" * 40, "c" * 40, "d" * 150, "e" * 10]
    embedder = embedder_at(client, embeddings.base_url, max_chars=100)

    vectors = await embedder.embed(texts)

    # "d" * 150 is over the budget by itself: it goes alone, and OpenAI says if it takes it.
    requests = [texts[:2], texts[2:3], texts[3:4], texts[4:]]
    assert [body["input"] for body in embeddings.bodies()] == requests
    assert vectors == [embeddings.space.vector(text) for text in texts]


async def test_the_default_model_is_text_embedding_3_small(
    client: httpx.AsyncClient, embeddings: FakeEmbeddings
) -> None:
    embedder = OpenAIEmbedder(client, api_key=API_KEY, base_url=f"{embeddings.base_url}/v1")

    [vector] = await embedder.embed([QUESTION])

    assert embedder.model == embeddings.bodies()[0]["model"] == "text-embedding-3-small"
    assert len(vector) == 1536


async def test_an_answer_missing_vectors_is_unavailable(
    embeddings: FakeEmbeddings, embedder: OpenAIEmbedder
) -> None:
    answer = embeddings.answered({"model": MODEL}, [QUESTION])
    embeddings.answer_next(Reply(200, answer))

    with pytest.raises(ExternalServiceUnavailable, match="1 vectors for 2 texts"):
        await embedder.embed([QUESTION, ANSWER])
