"""Seeing on Hugging Face's inference (``huggingface_inference``), the image file as the
body of ``POST /models/{model}``: image to text for the caption (answered
``[{"generated_text": ...}]``), object detection (``[{"score", "label", "box": {"xmin",
"ymin", "xmax", "ymax"}}]``, pixels) and image classification for the sign reader
(``[{"label", "score"}]``, the most likely first: a model trained on signs or fingerspelled
letters answers them as its labels).

A caption is written in the model's own language (BLIP's is English): ``language`` is not
sent.
"""

from __future__ import annotations

from huggingface_hub import ObjectDetectionOutputElement

from adapters.perception.huggingface_inference import InferenceModel, ask, unreadable
from adapters.perception.pictures import checked, inside, size_of
from talia_core.shared.vision import Box, DetectedObject, Image, SignReading

DEFAULT_CAPTION_MODEL = "Salesforce/blip-image-captioning-large"
DEFAULT_DETECTION_MODEL = "facebook/detr-resnet-50"
RUNNERS_UP = 4


class HuggingFaceImageUnderstanding:
    def __init__(self, *, captions: InferenceModel, detections: InferenceModel) -> None:
        self._captions = captions
        self._detections = detections

    async def caption(self, image: Image, *, language: str | None = None) -> str:
        file_type = checked(image)
        output = await ask(
            self._captions,
            lambda client: client.image_to_text(image.content, model=self._captions.url),
            file_type=file_type,
        )
        if not isinstance(output.generated_text, str) or not output.generated_text.strip():
            raise unreadable("an answer without its generated text")
        return output.generated_text.strip()

    async def detect(self, image: Image) -> tuple[DetectedObject, ...]:
        file_type = checked(image)
        size = size_of(image)
        found = await ask(
            self._detections,
            lambda client: client.object_detection(image.content, model=self._detections.url),
            file_type=file_type,
        )
        return inside([_object(element) for element in found], size)


class HuggingFaceSignLanguageReader:
    def __init__(self, model: InferenceModel) -> None:
        self._model = model

    async def read(self, image: Image) -> SignReading:
        file_type = checked(image)
        found = await ask(
            self._model,
            lambda client: client.image_classification(image.content, model=self._model.url),
            file_type=file_type,
        )
        ranked = sorted(
            ((_label(e.label), _score(e.score)) for e in found), key=lambda pair: -pair[1]
        )
        if not ranked:
            raise unreadable("no label at all")
        (label, score), *rest = ranked
        return SignReading(label, score, tuple(rest[:RUNNERS_UP]))


def _object(element: ObjectDetectionOutputElement) -> DetectedObject:
    box = element.box
    if box is None:
        raise unreadable("an object without its box")
    corners = (box.xmin, box.ymin, box.xmax, box.ymax)
    if not all(isinstance(corner, int | float) for corner in corners):
        raise unreadable(f"a box of {corners}")
    return DetectedObject(
        _label(element.label), _score(element.score), Box(*(round(c) for c in corners))
    )


def _label(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise unreadable(f"a label of {value!r}")
    return value.strip()


def _score(value: object) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value <= 1:
        raise unreadable(f"a score of {value!r}")
    return float(value)
