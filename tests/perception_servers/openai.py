"""A local HTTP server speaking OpenAI's wire format for hearing and seeing, with the bearer
token, under ``/v1``:

- ``POST /v1/audio/transcriptions``: multipart (``file``, ``model``, ``language``,
  ``response_format``), answered ``{"text", "usage"}``; a file it cannot decode is a 400
  ``Audio file might be corrupted or unsupported`` (``param: file``, ``code:
  invalid_value``);
- ``POST /v1/audio/speech``: ``{"model", "input", "voice", "response_format"}``, answered
  the audio (a WAV, ``audio/wav``, for ``wav``);
- ``POST /v1/responses``: a user message with ``input_text`` and an ``input_image`` given
  as a ``data:`` URL, answered the response object with one message; with ``text.format``
  a ``json_schema``, its text is the JSON of the scripted objects; an image it cannot
  decode is a 400 ``invalid_image_format``;
- errors as ``{"error": {"message", "type", "param", "code"}}``.

``will_hear``, ``caption``, ``objects`` and ``refusal`` script the answers; ``answer_next``
makes it answer the next request otherwise (a 429, a 503, silence).
"""

from __future__ import annotations

import base64
import json
from collections import deque
from email import policy
from email.parser import BytesParser
from typing import Any

from talia_core.shared.vision import DetectedObject
from tests.fakeserver import LocalServer, Recorded, Reply
from tests.integration.language.responses_server import API_KEY, openai_error
from tests.perception_servers.media import decodes_as_audio, decodes_as_image, tone

__all__ = ["API_KEY", "FakeOpenAIPerception", "multipart"]
CREATED_AT = 1741476542


def multipart(request: Recorded) -> dict[str, tuple[bytes, str | None]]:
    """The parts of a multipart body by name: their bytes and their file name."""
    head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
    message = BytesParser(policy=policy.default).parsebytes(head + request.body)
    parts: dict[str, tuple[bytes, str | None]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        parts[str(name)] = (payload if isinstance(payload, bytes) else b"", part.get_filename())
    return parts


class FakeOpenAIPerception(LocalServer):
    content_type = "application/json"

    def __init__(self, *, token: str = API_KEY) -> None:
        super().__init__()
        self._auth = f"Bearer {token}"
        self._heard: deque[str] = deque()
        self.caption = "Un cuadrado rojo sobre un fondo blanco."
        self.objects: list[DetectedObject] = []
        self.refusal: str | None = None

    def will_hear(self, text: str) -> None:
        self._heard.append(text)

    def answer(self, request: Recorded) -> Reply:
        if request.headers.get("authorization") != self._auth:
            message = "Incorrect API key provided: sk-...xxxx."
            return Reply(
                401, openai_error(message, kind="invalid_request_error", code="invalid_api_key")
            )
        if request.path == "/v1/audio/transcriptions":
            return self._transcription(request)
        if request.path == "/v1/audio/speech":
            body = request.json()
            return Reply(200, tone(0.1 + 0.05 * len(body["input"])), {"Content-Type": "audio/wav"})
        if request.path == "/v1/responses":
            return self._response(request.json())
        return Reply(404, openai_error("Not found", kind="invalid_request_error", code=None))

    def _transcription(self, request: Recorded) -> Reply:
        parts = multipart(request)
        if not decodes_as_audio(parts["file"][0]):
            message = "Audio file might be corrupted or unsupported"
            error = openai_error(
                message, kind="invalid_request_error", code="invalid_value", param="file"
            )
            return Reply(400, error)
        text = self._heard.popleft() if self._heard else "hola"
        usage = {"type": "tokens", "input_tokens": 14, "output_tokens": 4, "total_tokens": 18}
        return Reply(200, {"text": text, "usage": usage})

    def _response(self, body: dict[str, Any]) -> Reply:
        [message] = body["input"]
        [image] = [part for part in message["content"] if part["type"] == "input_image"]
        _, _, data = image["image_url"].partition(";base64,")
        if decodes_as_image(base64.b64decode(data)) is None:
            message_text = (
                "You uploaded an unsupported image. Please make sure your image has of one the "
                "following formats: ['png', 'jpeg', 'gif', 'webp']."
            )
            error = openai_error(
                message_text, kind="invalid_request_error", code="invalid_image_format"
            )
            return Reply(400, error)
        if self.refusal is not None:
            part = {"type": "refusal", "refusal": self.refusal}
        elif body.get("text", {}).get("format", {}).get("type") == "json_schema":
            part = _text(json.dumps({"objects": [_object(found) for found in self.objects]}))
        else:
            part = _text(self.caption)
        return Reply(200, _response(body, part, len(self.requests)))


def _text(text: str) -> dict[str, Any]:
    return {"type": "output_text", "annotations": [], "logprobs": [], "text": text}


def _object(found: DetectedObject) -> dict[str, Any]:
    box = found.box
    return {
        "label": found.label,
        "score": found.score,
        "x_min": box.x_min,
        "y_min": box.y_min,
        "x_max": box.x_max,
        "y_max": box.y_max,
    }


def _response(body: dict[str, Any], part: dict[str, Any], number: int) -> dict[str, Any]:
    message = {
        "id": f"msg_67ccd2bf17f0819081ff3bb2cf6508e60bb6a6b452d3{number:04d}",
        "type": "message",
        "status": "completed",
        "role": "assistant",
        "content": [part],
    }
    return {
        "id": f"resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3{number:04d}",
        "object": "response",
        "created_at": CREATED_AT,
        "status": "completed",
        "error": None,
        "incomplete_details": None,
        "model": f"{body['model']}-2025-04-14",
        "output": [message],
        "parallel_tool_calls": True,
        "store": body.get("store", True),
        "text": body.get("text", {"format": {"type": "text"}}),
        "tool_choice": "auto",
        "tools": [],
        "usage": {
            "input_tokens": 1105,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": 24,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": 1129,
        },
        "metadata": {},
    }
