"""The contract every ``SignLanguageReader`` passes: the fake, and each provider's adapter
against a local server speaking its wire format (``tests/perception_servers``).

How to add an engine: write a harness (any object with the attributes of
``SignLanguageReaderHarness``) and subclass ``SignLanguageReaderContract`` in a class
whose name ends in ``Tests``, with a ``harness`` fixture; one that calls its provider over
HTTP subclasses ``RemoteSignLanguageReaderContract`` with a harness that is also a
``RemoteEngineHarness``.
"""

from __future__ import annotations

from typing import Protocol

import pytest

from talia_core.shared.errors import ExternalServiceUnavailable
from talia_core.shared.media import NotMedia
from talia_core.shared.vision import Image, SignLanguageReader, SignReading
from tests.contracts.remote_engine import RemoteEngineContract, RemoteEngineHarness
from tests.contracts.vision.image_understanding import BROKEN_PNG, NOT_AN_IMAGE
from tests.perception_servers.media import photo


class SignLanguageReaderHarness(Protocol):
    @property
    def reader(self) -> SignLanguageReader: ...

    def will_read(self, *labels: tuple[str, float]) -> None:
        """The labels and scores the model gives the next images, in any order."""
        ...

    def go_down(self) -> None:
        """Make the engine fail the next call as it does when down (a 503 for a remote one)."""
        ...


class RemoteSignLanguageReaderHarness(SignLanguageReaderHarness, RemoteEngineHarness, Protocol):
    """A harness whose ``call`` reads a sign."""


class SignLanguageReaderContract:
    async def test_the_most_likely_sign_is_read_with_the_runners_up_in_order(
        self, harness: SignLanguageReaderHarness
    ) -> None:
        harness.will_read(("B", 0.06), ("A", 0.81), ("S", 0.09), ("E", 0.04))

        reading = await harness.reader.read(photo())

        assert reading == SignReading("A", 0.81, (("S", 0.09), ("B", 0.06), ("E", 0.04)))

    @pytest.mark.parametrize("content", NOT_AN_IMAGE)
    async def test_bytes_that_are_not_an_image_are_not_media(
        self, harness: SignLanguageReaderHarness, content: bytes
    ) -> None:
        with pytest.raises(NotMedia):
            await harness.reader.read(Image(content, "image/png"))

    async def test_an_engine_that_is_down_is_unavailable(
        self, harness: SignLanguageReaderHarness
    ) -> None:
        harness.go_down()

        with pytest.raises(ExternalServiceUnavailable):
            await harness.reader.read(photo())


class RemoteSignLanguageReaderContract(SignLanguageReaderContract, RemoteEngineContract):
    async def test_an_image_the_provider_cannot_decode_is_not_media(
        self, harness: RemoteSignLanguageReaderHarness
    ) -> None:
        with pytest.raises(NotMedia, match="could not read"):
            await harness.reader.read(Image(BROKEN_PNG, "image/png"))

        assert harness.requests() == 1
