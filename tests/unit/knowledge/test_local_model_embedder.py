"""An embedder on a model that runs here, whose extra is not installed, is unavailable at
every call (the model is looked for again, in case it was installed since) and names the
extra to install."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.embeddings.local import LocalModelEmbedder
from talia_core.knowledge.model import TextRole
from talia_core.shared.errors import ExternalServiceUnavailable


class Missing(LocalModelEmbedder):
    MODEL = "example/missing"
    SERVICE = "missing-engine"
    EXTRA = "local-embeddings"

    def __init__(self) -> None:
        super().__init__(batch_size=2)
        self.loads = 0

    def _load(self) -> Any:
        self.loads += 1
        raise ImportError("No module named 'missing_engine'")

    def _encode(self, engine: Any, batch: list[str], role: TextRole) -> list[list[float]]:
        raise AssertionError("never encodes without a model")


async def test_without_the_extra_every_call_is_unavailable_and_names_it() -> None:
    embedder = Missing()

    for _ in range(2):
        with pytest.raises(ExternalServiceUnavailable, match=r"talia\[local-embeddings\]"):
            await embedder.embed(["hola"])

    assert embedder.loads == 2


async def test_no_texts_need_no_model() -> None:
    embedder = Missing()

    assert await embedder.embed([]) == []
    assert embedder.loads == 0
