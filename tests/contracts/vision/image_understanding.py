"""The contract every ``ImageUnderstanding`` passes: the fake, and each provider's adapter
against a local server speaking its wire format (``tests/perception_servers``).

How to add an engine: write a harness (any object with the attributes of
``ImageUnderstandingHarness``) and subclass ``ImageUnderstandingContract`` in a class whose
name ends in ``Tests``, with a ``harness`` fixture; one that calls its provider over HTTP
subclasses ``RemoteImageUnderstandingContract`` with a harness that is also a
``RemoteEngineHarness``. The pictures are ``photo()``s, 320 x 240.
"""

from __future__ import annotations

from typing import Protocol

import pytest

from talia_core.shared.errors import ExternalServiceUnavailable
from talia_core.shared.media import NotMedia
from talia_core.shared.vision import Box, DetectedObject, Image, ImageUnderstanding
from tests.contracts.remote_engine import RemoteEngineContract, RemoteEngineHarness
from tests.perception_servers.media import photo, spoken

CAPTION = "Un cuadrado rojo sobre un fondo blanco."
NOT_AN_IMAGE = [
    pytest.param(b"hola, esto es texto", id="text"),
    pytest.param(spoken(), id="audio"),
    pytest.param(b"", id="nothing"),
]
BROKEN_PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


class ImageUnderstandingHarness(Protocol):
    @property
    def engine(self) -> ImageUnderstanding: ...

    def will_caption(self, text: str) -> None:
        """What the engine says the next images show."""
        ...

    def will_see(self, *objects: DetectedObject) -> None:
        """The objects the engine finds in the next images, boxes as it answers them."""
        ...

    def go_down(self) -> None:
        """Make the engine fail the next call as it does when down (a 503 for a remote one)."""
        ...


class RemoteImageUnderstandingHarness(ImageUnderstandingHarness, RemoteEngineHarness, Protocol):
    """A harness whose ``call`` captions."""


class ImageUnderstandingContract:
    async def test_an_image_is_described(self, harness: ImageUnderstandingHarness) -> None:
        harness.will_caption(CAPTION)

        assert await harness.engine.caption(photo(), language="es") == CAPTION

    @pytest.mark.parametrize("format", ["PNG", "JPEG", "WEBP", "GIF"])
    async def test_objects_come_most_confident_first_inside_the_picture(
        self, harness: ImageUnderstandingHarness, format: str
    ) -> None:
        harness.will_see(
            DetectedObject("cake", 0.61, Box(10, 20, 150, 200)),
            DetectedObject("cup", 0.97, Box(200, 150, 340, 260)),  # overhangs the corner
            DetectedObject("ghost", 0.99, Box(330, 10, 400, 50)),  # wholly outside
        )

        found = await harness.engine.detect(photo(320, 240, format))

        assert found == (
            DetectedObject("cup", 0.97, Box(200, 150, 320, 240)),
            DetectedObject("cake", 0.61, Box(10, 20, 150, 200)),
        )

    async def test_an_image_with_nothing_found_has_no_objects(
        self, harness: ImageUnderstandingHarness
    ) -> None:
        harness.will_see()

        assert await harness.engine.detect(photo()) == ()

    @pytest.mark.parametrize("content", NOT_AN_IMAGE)
    async def test_bytes_that_are_not_an_image_are_not_media(
        self, harness: ImageUnderstandingHarness, content: bytes
    ) -> None:
        with pytest.raises(NotMedia):
            await harness.engine.caption(Image(content, "image/jpeg"))
        with pytest.raises(NotMedia):
            await harness.engine.detect(Image(content, "image/jpeg"))

    async def test_an_engine_that_is_down_is_unavailable(
        self, harness: ImageUnderstandingHarness
    ) -> None:
        harness.go_down()

        with pytest.raises(ExternalServiceUnavailable):
            await harness.engine.caption(photo())


class RemoteImageUnderstandingContract(ImageUnderstandingContract, RemoteEngineContract):
    async def test_what_is_not_an_image_is_refused_without_asking_the_provider(
        self, harness: RemoteImageUnderstandingHarness
    ) -> None:
        with pytest.raises(NotMedia):
            await harness.engine.caption(Image(b"GIF8", "image/gif"))

        assert harness.requests() == 0

    async def test_an_image_the_provider_cannot_decode_is_not_media(
        self, harness: RemoteImageUnderstandingHarness
    ) -> None:
        with pytest.raises(NotMedia, match="could not read"):
            await harness.engine.caption(Image(BROKEN_PNG, "image/png"))

        assert harness.requests() == 1
