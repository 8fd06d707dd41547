"""The knowledge base's embedder, as configured (``TALIA_KNOWLEDGE__EMBEDDER``): none, or
one provider behind its resilience runner (a local model calls nothing and needs none).
Each provider's module, and the SDK it runs on, is imported only when it is the one chosen."""

from __future__ import annotations

import httpx

from adapters.resilience import BreakerBoard, resilient
from entrypoints.settings import Settings
from entrypoints.settings.knowledge import EmbedderProvider
from entrypoints.wiring.embedders import LOCAL_MODELS
from entrypoints.wiring.policies import runner
from talia_core.knowledge.ports import Embedder


def embedder(settings: Settings, client: httpx.AsyncClient, board: BreakerBoard) -> Embedder | None:
    choice = settings.knowledge.embedder
    model = settings.knowledge.embedding_model
    if choice is EmbedderProvider.OPENAI:
        from adapters.embeddings import openai
        from adapters.embeddings.openai import OpenAIEmbedder

        remote = OpenAIEmbedder(
            client,
            api_key=settings.openai.api_key.get_secret_value(),
            base_url=settings.openai.base_url,
            model=model or openai.DEFAULT_MODEL,
        )
        return resilient(remote, runner("openai-embeddings", board, settings))
    if choice is EmbedderProvider.HUGGINGFACE:
        from adapters.embeddings import huggingface
        from adapters.embeddings.huggingface import HuggingFaceEmbedder

        hugging_face = HuggingFaceEmbedder(
            token=settings.huggingface.token.get_secret_value(),
            base_url=settings.knowledge.embedding_url,
            timeout_seconds=settings.resilience.timeout_seconds,
            model=model or huggingface.DEFAULT_MODEL,
        )
        return resilient(hugging_face, runner("huggingface-embeddings", board, settings))
    if choice is EmbedderProvider.LOCAL:
        return LOCAL_MODELS[model]()
    return None
