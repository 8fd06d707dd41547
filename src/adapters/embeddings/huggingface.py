"""An ``Embedder`` on Hugging Face's feature extraction, through ``huggingface_hub``'s
``AsyncInferenceClient``: the router's own inference (``hf-inference``), or a server at a
base URL that speaks the same (Text Embeddings Inference, an Inference Endpoint).

The client is given the URL to post to, ``{router}/hf-inference/models/{model}/pipeline/
feature-extraction`` or the base URL as it is, with ``{"inputs": [texts]}``: given a bare
model id instead, it would first ask the Hub, blocking, which provider serves the model and
for which task. A sentence-embedding model (sentence-transformers, TEI) answers a vector per
text; a plain transformer answers a vector per token, which is mean-pooled here. Token
vectors of texts of different lengths do not stack into one array, so such a batch is asked
again a text at a time. Every vector is scaled to unit length.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import httpx2
import numpy as np
from huggingface_hub import AsyncInferenceClient
from huggingface_hub.errors import HfHubHTTPError

from adapters.embeddings.batches import batches
from adapters.language import failures
from adapters.language.huggingface import SERVICE, failure_of
from talia_core.knowledge.model import TextRole
from talia_core.shared.errors import ExternalServiceUnavailable

ROUTER_URL = "https://router.huggingface.co"
_ROUTE = "/hf-inference/models/{model}/pipeline/feature-extraction"
DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
BATCH_SIZE = 32


class HuggingFaceEmbedder:
    """``model`` names the vector space, and on the router the model asked; ``base_url``
    set: the server there answers with its own model. Without a token every call is
    unavailable, as the language model's. ``router_url``: where the router is reached (a
    proxy, say)."""

    def __init__(
        self,
        *,
        token: str,
        model: str = DEFAULT_MODEL,
        base_url: str = "",
        timeout_seconds: float = 10.0,
        batch_size: int = BATCH_SIZE,
        router_url: str = ROUTER_URL,
    ) -> None:
        self._token = token
        self._model = model
        self._url = base_url or router_url + _ROUTE.format(model=model)
        self._timeout = timeout_seconds
        self._batch_size = batch_size

    @property
    def model(self) -> str:
        return self._model

    async def embed(
        self, texts: Sequence[str], role: TextRole = TextRole.PASSAGE
    ) -> list[list[float]]:
        if not texts:
            return []
        if not self._token:
            raise failures.unconfigured(SERVICE, "TALIA_HUGGINGFACE__TOKEN")
        vectors: list[list[float]] = []
        async with AsyncInferenceClient(api_key=self._token, timeout=self._timeout) as client:
            for batch in batches(texts, self._batch_size):
                vectors += await self._embedded(client, batch)
        return vectors

    async def _embedded(self, client: AsyncInferenceClient, batch: list[str]) -> list[list[float]]:
        try:
            features = await client.feature_extraction(batch, model=self._url)
        except (HfHubHTTPError, httpx2.HTTPError) as error:
            raise failure_of(error) from error
        except (json.JSONDecodeError, UnicodeDecodeError, TypeError) as error:
            raise _unreadable(f"not an array of numbers ({error})") from error
        except ValueError as error:  # arrays that do not stack: token vectors of each text
            if len(batch) == 1:
                raise _unreadable(f"not an array of numbers ({error})") from error
            return [vector for text in batch for vector in await self._embedded(client, [text])]
        return _sentences(features, len(batch))


def _sentences(features: np.ndarray, texts: int) -> list[list[float]]:
    """A unit vector per text from a vector per text, or from a vector per token."""
    if features.ndim == 3:
        features = features.mean(axis=1)
    if features.ndim != 2 or features.shape[0] != texts or features.shape[1] == 0:
        raise _unreadable(f"features of shape {features.shape} for {texts} texts")
    norms = np.linalg.norm(features, axis=1, keepdims=True)
    unit: list[list[float]] = (features / np.where(norms == 0, 1, norms)).tolist()
    return unit


def _unreadable(what: str) -> ExternalServiceUnavailable:
    return ExternalServiceUnavailable(SERVICE, f"an unreadable answer: {failures.shortened(what)}")
