"""Seeing on OpenAI: the image given to a vision-capable model in the Responses API
(``POST /v1/responses``, an ``input_image`` with the image as a ``data:`` URL, not stored
at OpenAI), through the SDK.

The caption is the model's text. Objects are asked as strict JSON (a schema of labels,
confidences and boxes in pixels of the image, whose size the request states): a language
model places boxes roughly, so they are approximate, and are held inside the picture
(``pictures.inside``). A 400 whose code names the image (``invalid_image_format``...) is
``NotMedia``; a model that refuses to look is ``RequestRefused``.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import openai
from openai import AsyncOpenAI
from openai.types.responses import EasyInputMessageParam, ResponseTextConfigParam

from adapters.language import failures
from adapters.language.openai import SERVICE, failure_of
from adapters.perception.pictures import checked, inside, size_of
from talia_core.shared.errors import ExternalServiceUnavailable, RequestRefused
from talia_core.shared.media import NotMedia
from talia_core.shared.vision import Box, DetectedObject, Image

DEFAULT_MODEL = "gpt-4.1-mini"
CAPTION = "Describe what this image shows in one or two sentences, for someone who cannot see it."
DETECT = (
    "List the distinct objects you can see in this image of {width}x{height} pixels, each "
    "with a short label, your confidence from 0 to 1 and its bounding box in pixels (x from "
    "the left edge, y from the top edge)."
)
_NUMBER = {"type": "number"}
OBJECTS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["objects"],
    "properties": {
        "objects": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["label", "score", "x_min", "y_min", "x_max", "y_max"],
                "properties": {
                    "label": {"type": "string"},
                    "score": _NUMBER,
                    "x_min": _NUMBER,
                    "y_min": _NUMBER,
                    "x_max": _NUMBER,
                    "y_max": _NUMBER,
                },
            },
        }
    },
}


class OpenAIImageUnderstanding:
    """``sdk``: ``adapters.language.openai.sdk_client``'s; ``model``: one that sees images."""

    def __init__(self, sdk: AsyncOpenAI, *, model: str = DEFAULT_MODEL) -> None:
        self._openai = sdk
        self._model = model

    async def caption(self, image: Image, *, language: str | None = None) -> str:
        ask = CAPTION if language is None else f"{CAPTION} Write it in the language {language}."
        return await self._answer(image, ask, {"format": {"type": "text"}})

    async def detect(self, image: Image) -> tuple[DetectedObject, ...]:
        checked(image)
        width, height = size_of(image)
        text = await self._answer(
            image,
            DETECT.format(width=width, height=height),
            {
                "format": {
                    "type": "json_schema",
                    "name": "objects",
                    "strict": True,
                    "schema": OBJECTS_SCHEMA,
                }
            },
        )
        return inside(_objects(text), (width, height))

    async def _answer(self, image: Image, ask: str, text: ResponseTextConfigParam) -> str:
        url = f"data:{checked(image)};base64,{base64.b64encode(image.content).decode()}"
        message: EasyInputMessageParam = {
            "role": "user",
            "content": [
                {"type": "input_text", "text": ask},
                {"type": "input_image", "image_url": url, "detail": "auto"},
            ],
        }
        try:
            response = await self._openai.responses.create(
                model=self._model, input=[message], text=text, store=False
            )
        except openai.APIStatusError as error:
            if error.status_code == 400 and "image" in str(error.code or ""):
                raise NotMedia(f"{SERVICE} could not read the image: {error.message}") from error
            raise failure_of(error) from error
        except openai.APIError as error:
            raise failure_of(error) from error
        if response.error is not None:
            raise ExternalServiceUnavailable(
                SERVICE, failures.shortened(f"{response.error.code}: {response.error.message}")
            )
        refusals = [
            part.refusal
            for item in response.output
            if item.type == "message"
            for part in item.content
            if part.type == "refusal"
        ]
        if refusals:
            raise RequestRefused(SERVICE, failures.shortened(" ".join(refusals)))
        if not response.output_text.strip():
            raise _unreadable("an answer without text")
        return response.output_text.strip()


def _objects(text: str) -> list[DetectedObject]:
    try:
        listed = json.loads(text)["objects"]
        return [
            DetectedObject(
                str(item["label"]),
                float(item["score"]),
                Box(*(round(float(item[k])) for k in ("x_min", "y_min", "x_max", "y_max"))),
            )
            for item in listed
        ]
    except (ValueError, KeyError, TypeError) as error:
        raise _unreadable(f"objects that are not the schema's: {error}") from error


def _unreadable(what: str) -> ExternalServiceUnavailable:
    return ExternalServiceUnavailable(SERVICE, failures.shortened(f"an unreadable answer: {what}"))
