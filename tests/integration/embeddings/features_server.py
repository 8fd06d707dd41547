"""A local HTTP server speaking Hugging Face's feature extraction wire format, as its
router's own inference (``POST /hf-inference/models/{model}/pipeline/feature-extraction``)
and Text Embeddings Inference or an Inference Endpoint (``POST /``) answer it.

A ``tests.fakeserver.LocalServer`` on 127.0.0.1 answering ``POST {path}`` with the bearer
token: the body ``{"inputs": [texts]}`` is answered a JSON array, as the model the server
plays answers:

- a sentence-embedding model: a vector per text, ``[[floats], ...]``, not scaled to unit
  length (``SCALE`` times the vector of ``space``);
- a plain transformer (``token_level``): a vector per token of each text, ``[[[floats],
  ...], ...]``, two tokens per word (``ragged``: so texts of different lengths have arrays
  of different lengths) or four per text; their mean is the text's vector of ``space``;
- errors as ``{"error": message}``, a model still loading as a 503 with
  ``"estimated_time"``.

``answer_next`` makes it answer the next request otherwise (a 429, a 503, silence).
"""

from __future__ import annotations

from typing import Any

from tests.fakeserver import LocalServer, Recorded, Reply
from tests.integration.embeddings.space import VectorSpace

TOKEN = "hf_" + "e" * 34  # the token it takes
DIMENSIONS = 384
SCALE = 3.0


def hf_error(message: str, **more: Any) -> dict[str, Any]:
    return {"error": message, **more}


class FakeFeatureExtraction(LocalServer):
    content_type = "application/json"

    def __init__(self, *, token: str, path: str) -> None:
        super().__init__()
        self.path = path
        self.token_level = False
        self.ragged = True
        self.space = VectorSpace(DIMENSIONS)
        self._auth = f"Bearer {token}"

    def bodies(self) -> list[dict[str, Any]]:
        return [request.json() for request in self.requests]

    def answer(self, request: Recorded) -> Reply:
        if request.method != "POST" or request.path != self.path:
            return Reply(404, hf_error("Not Found"))
        if request.headers.get("authorization") != self._auth:
            return Reply(401, hf_error("Invalid credentials in Authorization header"))
        texts = request.json().get("inputs")
        if not isinstance(texts, list) or not all(isinstance(text, str) for text in texts):
            return Reply(400, hf_error("Input should be a valid list of strings"))
        if self.token_level:
            return Reply(200, [self._tokens(text) for text in texts])
        return Reply(200, [[SCALE * x for x in self.space.vector(text)] for text in texts])

    def _tokens(self, text: str) -> list[list[float]]:
        """Pairs of token vectors around the text's vector: their mean is the text's."""
        vector = self.space.vector(text)
        pairs = len(text.split()) if self.ragged else 2
        tokens: list[list[float]] = []
        for pair in range(pairs):
            shift = [0.5 * x for x in self.space.vector(f"{text} #{pair}")]
            tokens.append([x + s for x, s in zip(vector, shift, strict=True)])
            tokens.append([x - s for x, s in zip(vector, shift, strict=True)])
        return tokens
