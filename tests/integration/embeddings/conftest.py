"""The embedding providers' local servers, each started for one test with the credentials
it takes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.integration.embeddings.embeddings_server import FakeEmbeddings
from tests.integration.embeddings.features_server import TOKEN, FakeFeatureExtraction
from tests.integration.language.responses_server import API_KEY

MODEL = "sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2"
ROUTE = f"/hf-inference/models/{MODEL}/pipeline/feature-extraction"


@pytest.fixture
async def embeddings() -> AsyncIterator[FakeEmbeddings]:
    server = FakeEmbeddings(token=API_KEY)
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def router() -> AsyncIterator[FakeFeatureExtraction]:
    """Hugging Face's router, serving ``MODEL``."""
    server = FakeFeatureExtraction(token=TOKEN, path=ROUTE)
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def endpoint() -> AsyncIterator[FakeFeatureExtraction]:
    """A server of its own (Text Embeddings Inference, an Inference Endpoint) at its root."""
    server = FakeFeatureExtraction(token=TOKEN, path="/")
    await server.start()
    yield server
    await server.close()
