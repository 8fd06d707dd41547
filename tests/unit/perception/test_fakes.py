"""The fakes of the hearing and seeing ports pass the ports' contracts."""

from __future__ import annotations

import pytest

from adapters.memory.speech import FakeSpeechToText, FakeTextToSpeech
from adapters.memory.vision import FakeImageUnderstanding, FakeSignLanguageReader
from talia_core.shared.errors import ExternalServiceUnavailable
from talia_core.shared.vision import DetectedObject
from tests.contracts.speech.speech_to_text import SpeechToTextContract, SpeechToTextHarness
from tests.contracts.speech.text_to_speech import TextToSpeechContract, TextToSpeechHarness
from tests.contracts.vision.image_understanding import (
    ImageUnderstandingContract,
    ImageUnderstandingHarness,
)
from tests.contracts.vision.sign_language_reader import (
    SignLanguageReaderContract,
    SignLanguageReaderHarness,
)

DOWN = ExternalServiceUnavailable("fake", "down")


class FakeHearing:
    def __init__(self) -> None:
        self.engine = FakeSpeechToText()

    def will_hear(self, text: str) -> None:
        self.engine.will_hear(text)

    def go_down(self) -> None:
        self.engine.fail_with(DOWN)


class FakeSpeaking:
    def __init__(self) -> None:
        self.engine = FakeTextToSpeech()

    def go_down(self) -> None:
        self.engine.fail_with(DOWN)


class FakeSeeing:
    def __init__(self) -> None:
        self.engine = FakeImageUnderstanding()

    def will_caption(self, text: str) -> None:
        self.engine = FakeImageUnderstanding(text)

    def will_see(self, *objects: DetectedObject) -> None:
        self.engine.will_see(*objects)

    def go_down(self) -> None:
        self.engine.fail_with(DOWN)


class FakeSigns:
    def __init__(self) -> None:
        self.reader = FakeSignLanguageReader()

    def will_read(self, *labels: tuple[str, float]) -> None:
        (sign, score), *rest = sorted(labels, key=lambda pair: -pair[1])
        self.reader = FakeSignLanguageReader(sign, score, tuple(rest))

    def go_down(self) -> None:
        self.reader.fail_with(DOWN)


class FakeSpeechToTextTests(SpeechToTextContract):
    @pytest.fixture
    def harness(self) -> SpeechToTextHarness:
        return FakeHearing()


class FakeTextToSpeechTests(TextToSpeechContract):
    @pytest.fixture
    def harness(self) -> TextToSpeechHarness:
        return FakeSpeaking()


class FakeImageUnderstandingTests(ImageUnderstandingContract):
    @pytest.fixture
    def harness(self) -> ImageUnderstandingHarness:
        return FakeSeeing()


class FakeSignLanguageReaderTests(SignLanguageReaderContract):
    @pytest.fixture
    def harness(self) -> SignLanguageReaderHarness:
        return FakeSigns()
