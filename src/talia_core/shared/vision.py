"""Seeing: the ``ImageUnderstanding`` and ``SignLanguageReader`` ports.

A photo a customer sends is described for the assistant and the agents; the direct AI route
captions, detects objects or reads a sign for frontends. Images travel as bytes with their
MIME type (``talia_core.shared.media.sniff`` tells it from the bytes).
"""

from __future__ import annotations

from typing import Protocol

import attrs


@attrs.frozen
class Image:
    content: bytes = attrs.field(repr=lambda c: f"<{len(c)} bytes>")
    mime_type: str


@attrs.frozen
class Box:
    """A region in pixels of the image as sent: top-left corner and bottom-right corner."""

    x_min: int
    y_min: int
    x_max: int
    y_max: int


@attrs.frozen
class DetectedObject:
    label: str
    score: float
    """The engine's confidence, 0 to 1."""
    box: Box


@attrs.frozen
class SignReading:
    """A sign (or a fingerspelled letter) read from an image, with the runners-up."""

    label: str
    score: float
    alternatives: tuple[tuple[str, float], ...] = ()


class ImageUnderstanding(Protocol):
    async def caption(self, image: Image, *, language: str | None = None) -> str:
        """What the image shows, in a sentence or two; ``language`` (ISO 639-1) is asked
        of engines that can write in it. ``NotMedia`` for bytes that are not an image."""
        ...

    async def detect(self, image: Image) -> tuple[DetectedObject, ...]:
        """The objects found, the most confident first."""
        ...


class SignLanguageReader(Protocol):
    async def read(self, image: Image) -> SignReading:
        """The sign shown in ``image`` as the configured classification model reads it."""
        ...
