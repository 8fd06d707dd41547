"""An ``Embedder`` on OpenAI's embeddings (``POST /v1/embeddings``), through the SDK.

Vectors come as JSON floats (``encoding_format: float``: the SDK would otherwise ask for
base64 and decode it with numpy) and are put back in the order of the texts by their
``index``. A request holds at most 2048 texts and about 300,000 tokens in all, OpenAI's
limits: texts are cut into requests of at most ``max_texts`` texts and ``max_chars``
characters (a token of Spanish or English text holds a character or more), sent one after
another. Errors read as the language model's do (``adapters.language.openai.failure_of``): busy or
down is ``ExternalServiceUnavailable`` with its ``Retry-After``, a request refused as it
was (an unknown model, a text over 8192 tokens) is ``RequestRefused``, not worth repeating.
"""

from __future__ import annotations

from collections.abc import Sequence

import httpx
import openai
from openai import AsyncOpenAI, omit

from adapters.embeddings.batches import batches
from adapters.language import failures
from adapters.language.openai import OPENAI_URL, SERVICE, failure_of, sdk_client
from talia_core.knowledge.model import TextRole
from talia_core.shared.errors import ExternalServiceUnavailable

DEFAULT_MODEL = "text-embedding-3-small"
MAX_TEXTS = 2048
MAX_CHARS = 300_000


class OpenAIEmbedder:
    """``dimensions`` shortens the vectors of the ``text-embedding-3`` models; it is part of
    the model's name (``text-embedding-3-large@256``), since vectors of another length are
    another space. Without an API key every call is unavailable, as the language model's."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        api_key: str,
        model: str = DEFAULT_MODEL,
        dimensions: int | None = None,
        base_url: str = OPENAI_URL,
        max_texts: int = MAX_TEXTS,
        max_chars: int = MAX_CHARS,
    ) -> None:
        self._openai = sdk_client(client, api_key=api_key, base_url=base_url)
        self._model = model
        self._dimensions = dimensions
        self._max_texts = max_texts
        self._max_chars = max_chars

    @property
    def model(self) -> str:
        return self._model if self._dimensions is None else f"{self._model}@{self._dimensions}"

    async def embed(
        self, texts: Sequence[str], role: TextRole = TextRole.PASSAGE
    ) -> list[list[float]]:
        if not texts:
            return []
        if self._openai is None:
            raise failures.unconfigured(SERVICE, "TALIA_OPENAI__API_KEY")
        vectors: list[list[float]] = []
        for batch in batches(texts, self._max_texts, self._max_chars):
            vectors += await self._embedded(self._openai, batch)
        return vectors

    async def _embedded(self, client: AsyncOpenAI, batch: list[str]) -> list[list[float]]:
        try:
            response = await client.embeddings.create(
                model=self._model,
                input=batch,
                encoding_format="float",
                dimensions=omit if self._dimensions is None else self._dimensions,
            )
        except openai.APIError as error:
            raise failure_of(error) from error
        found = sorted(response.data, key=lambda item: item.index)
        if [item.index for item in found] != list(range(len(batch))):
            raise ExternalServiceUnavailable(
                SERVICE, f"an answer of {len(found)} vectors for {len(batch)} texts"
            )
        return [item.embedding for item in found]
