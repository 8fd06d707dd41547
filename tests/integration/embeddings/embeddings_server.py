"""A local HTTP server speaking OpenAI's embeddings wire format.

A ``tests.fakeserver.LocalServer`` on 127.0.0.1 answering ``POST /v1/embeddings`` with the
bearer token, as OpenAI documents it: the body ``{"model", "input": [texts],
"encoding_format": "float", "dimensions"?}`` is answered ``{"object": "list", "data":
[{"object": "embedding", "index", "embedding": [floats]}], "model", "usage":
{"prompt_tokens", "total_tokens"}}``, the items here in reverse order (nothing promises
them in order: the index says which text each is); an empty text, or an input that is not a
list of texts, is refused (400); errors as ``{"error": {"message", "type", "param",
"code"}}``. The vectors are those of ``space`` (``space.VectorSpace``), of the requested
``dimensions`` when the body says, else the model's (1536).

``answer_next`` makes it answer the next request otherwise (a 429, a 503, silence).
"""

from __future__ import annotations

from typing import Any

from tests.fakeserver import LocalServer, Recorded, Reply
from tests.integration.embeddings.space import VectorSpace
from tests.integration.language.responses_server import openai_error
from tests.integration.language.scripted import tokens

DIMENSIONS = 1536


class FakeEmbeddings(LocalServer):
    content_type = "application/json"
    path = "/v1/embeddings"

    def __init__(self, *, token: str) -> None:
        super().__init__()
        self._auth = f"Bearer {token}"
        self.space = VectorSpace(DIMENSIONS)

    def bodies(self) -> list[dict[str, Any]]:
        return [request.json() for request in self.requests]

    def answer(self, request: Recorded) -> Reply:
        if request.method != "POST" or request.path != self.path:
            message = f"Invalid URL ({request.method} {request.path})"
            return Reply(404, openai_error(message, kind="invalid_request_error", code=None))
        if request.headers.get("authorization") != self._auth:
            message = "Incorrect API key provided."
            return Reply(401, openai_error(message, kind="invalid_request_error", code=None))
        body = request.json()
        texts = body.get("input")
        if not isinstance(texts, list) or not all(isinstance(t, str) and t for t in texts):
            message = "'$.input' is invalid. Please check the API reference."
            error = openai_error(message, kind="invalid_request_error", code=None, param="input")
            return Reply(400, error)
        return Reply(200, self.answered(body, texts))

    def answered(self, body: dict[str, Any], texts: list[str]) -> dict[str, Any]:
        dimensions = body.get("dimensions", DIMENSIONS)
        data = [
            {"object": "embedding", "index": index, "embedding": self._vector(text, dimensions)}
            for index, text in enumerate(texts)
        ]
        used = sum(tokens(text) for text in texts)
        return {
            "object": "list",
            "data": data[::-1],
            "model": body["model"],
            "usage": {"prompt_tokens": used, "total_tokens": used},
        }

    def _vector(self, text: str, dimensions: int) -> list[float]:
        return self.space.vector(text)[:dimensions]
