"""The ``ImageProcessor`` contract on Pillow (decoding JPEGs at reduced size or not) and
on the fake."""

from __future__ import annotations

import pytest

from adapters.media.pillow import PillowImageProcessor
from adapters.memory.media import FakeImageProcessor
from tests.contracts.media.image_processor import ImageProcessorContract, RenderingContract


class PillowImageProcessorTests(RenderingContract):
    @pytest.fixture
    def processor(self) -> PillowImageProcessor:
        return PillowImageProcessor()


class PillowImageProcessorWithoutDraftTests(RenderingContract):
    @pytest.fixture
    def processor(self) -> PillowImageProcessor:
        return PillowImageProcessor(draft=False)


class FakeImageProcessorTests(ImageProcessorContract):
    @pytest.fixture
    def processor(self) -> FakeImageProcessor:
        return FakeImageProcessor()
