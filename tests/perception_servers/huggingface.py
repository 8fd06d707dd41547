"""A local HTTP server speaking Hugging Face's inference (``hf-inference``, the router's
``https://router.huggingface.co/hf-inference``) for the hearing and seeing tasks.

``POST /models/{model}`` with the bearer token; each model serves one ``Task``:

- automatic speech recognition: the audio file as the body (its ``Content-Type``),
  answered ``{"text": ...}``;
- text to speech: ``{"inputs": text, "parameters": {}}``, answered the audio itself (a
  WAV, ``audio/wav``);
- image to text: the image file, answered ``[{"generated_text": ...}]``;
- object detection: the image file, answered ``[{"score", "label", "box": {"xmin",
  "ymin", "xmax", "ymax"}}]`` in pixels;
- image classification: the image file, answered ``[{"label", "score"}]``, most likely
  first.

A file the pipeline cannot decode is answered 400 ``{"error": "Malformed soundfile"}`` or
``{"error": "cannot identify image file ..."}``, as the pipelines raise; an unknown model
404, a wrong token 401, each ``{"error": message}``.
"""

from __future__ import annotations

import enum
from collections import deque
from typing import Any

from talia_core.shared.vision import DetectedObject
from tests.fakeserver import LocalServer, Recorded, Reply
from tests.perception_servers.media import decodes_as_audio, decodes_as_image, tone

TOKEN = "hf_" + "p" * 34  # the token it takes


class Task(enum.StrEnum):
    SPEECH_TO_TEXT = "automatic-speech-recognition"
    TEXT_TO_SPEECH = "text-to-speech"
    CAPTION = "image-to-text"
    DETECTION = "object-detection"
    CLASSIFICATION = "image-classification"


def hf_error(message: str) -> dict[str, Any]:
    return {"error": message}


class FakeHuggingFaceInference(LocalServer):
    content_type = "application/json"

    def __init__(self, *, token: str = TOKEN, tasks: dict[str, Task]) -> None:
        super().__init__()
        self.tasks = tasks
        self._auth = f"Bearer {token}"
        self._heard: deque[str] = deque()
        self.caption = "a red square on a white background"
        self.objects: list[DetectedObject] = []
        self.labels: list[tuple[str, float]] = [("A", 0.9)]

    def will_hear(self, text: str) -> None:
        self._heard.append(text)

    def answer(self, request: Recorded) -> Reply:
        model = request.path.removeprefix("/models/")
        if request.method != "POST" or model not in self.tasks:
            return Reply(404, hf_error(f"Model {model} does not exist"))
        if request.headers.get("authorization") != self._auth:
            return Reply(401, hf_error("Invalid credentials in Authorization header"))
        task = self.tasks[model]
        if task is Task.TEXT_TO_SPEECH:
            text = request.json().get("inputs")
            if not isinstance(text, str):
                return Reply(400, hf_error("Input should be a valid string"))
            return Reply(200, tone(0.1 + 0.05 * len(text)), {"Content-Type": "audio/wav"})
        if task is Task.SPEECH_TO_TEXT:
            if not decodes_as_audio(request.body):
                return Reply(400, hf_error("Malformed soundfile"))
            return Reply(200, {"text": " " + (self._heard.popleft() if self._heard else "hola")})
        if decodes_as_image(request.body) is None:
            return Reply(
                400, hf_error("cannot identify image file <_io.BytesIO object at 0x7f5d2c1b3e20>")
            )
        return Reply(200, self._seen(task))

    def _seen(self, task: Task) -> list[dict[str, Any]]:
        if task is Task.CAPTION:
            return [{"generated_text": self.caption}]
        if task is Task.DETECTION:
            return [
                {
                    "score": found.score,
                    "label": found.label,
                    "box": {
                        "xmin": found.box.x_min,
                        "ymin": found.box.y_min,
                        "xmax": found.box.x_max,
                        "ymax": found.box.y_max,
                    },
                }
                for found in self.objects
            ]
        ranked = sorted(self.labels, key=lambda pair: -pair[1])
        return [{"label": label, "score": score} for label, score in ranked]
