"""The knowledge base's settings (``TALIA_KNOWLEDGE__*``)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from entrypoints.wiring.embedders import LOCAL_MODELS


class EmbedderProvider(StrEnum):
    NONE = "none"
    OPENAI = "openai"
    HUGGINGFACE = "huggingface"
    LOCAL = "local"


class KnowledgeSettings(BaseModel):
    """The knowledge base: documents the assistants search (``search_knowledge``)."""

    max_bytes: Annotated[int, Field(ge=1024, le=64 * 1024 * 1024)] = Field(
        20 * 1024 * 1024, description="The largest document an upload may carry, in bytes."
    )
    max_pages: Annotated[int, Field(ge=1, le=10_000)] = Field(
        500, description="The most pages of a PDF that are read; a longer one fails."
    )
    ingest_timeout_seconds: Annotated[float, Field(gt=0, le=240)] = Field(
        120,
        description="Reading a document past this fails it, so none stays in 'extracting'; "
        "below the jobs' 300 s lease, so a dead worker's document is taken up again.",
    )
    embedder: EmbedderProvider = Field(
        EmbedderProvider.NONE,
        description="Vectors for the hybrid search: none (full-text search alone), openai, "
        "huggingface or local (a model run here: the optional local-embeddings extra).",
    )
    embedding_model: str = Field(
        "",
        max_length=200,
        description="The embedder's model; empty: text-embedding-3-small (openai), "
        "sentence-transformers/all-MiniLM-L6-v2 (huggingface), "
        "intfloat/multilingual-e5-small (local; or sentence-transformers/all-MiniLM-L6-v2).",
    )
    embedding_url: str = Field(
        "",
        pattern="^(https?://.+)?$",
        description="huggingface only: a server of feature extraction (Text Embeddings "
        "Inference, an Inference Endpoint); empty: Hugging Face's router.",
    )
    min_similarity: Annotated[float, Field(ge=-1, le=1)] = Field(
        0.3, description="Vector neighbours less similar than this (cosine) are not answers."
    )

    @field_validator("embedding_model")
    @classmethod
    def _runs_here(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("embedder") is EmbedderProvider.LOCAL and value not in LOCAL_MODELS:
            models = ", ".join(name for name in LOCAL_MODELS if name)
            raise ValueError(f"{value!r} is not a model that runs here: {models}")
        return value
