"""The fake embedder passes the embedder contract: texts sharing words are near."""

from __future__ import annotations

import attrs
import pytest

from adapters.memory.embedder import HashingEmbedder
from talia_core.knowledge.ports import Embedder
from tests.contracts.knowledge.embedder import FallibleEmbedderContract, FallibleEmbedderHarness


@attrs.frozen
class HashingHarness:
    hashing: HashingEmbedder

    @property
    def embedder(self) -> Embedder:
        return self.hashing

    def go_down(self) -> None:
        self.hashing.fail_next()


class HashingEmbedderTests(FallibleEmbedderContract):
    @pytest.fixture
    def harness(self) -> FallibleEmbedderHarness:
        return HashingHarness(HashingEmbedder())
