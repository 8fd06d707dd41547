"""Fakes of the vision ports for tests, passing the ports' contracts
(``tests/contracts/vision/``):

    seeing = FakeImageUnderstanding("una torta de bodas")
    seeing.will_see(DetectedObject("cake", 0.97, Box(10, 20, 200, 240)))
    signs = FakeSignLanguageReader("A")

Both refuse what is not an image, as the real engines do, and remember what they looked at;
objects are held inside the picture as the real engines' are.
"""

from __future__ import annotations

from adapters.memory.media import header
from adapters.perception.pictures import inside
from talia_core.shared.errors import TaliaError
from talia_core.shared.media import MediaKind, NotMedia, sniff
from talia_core.shared.vision import DetectedObject, Image, SignReading


class _Looking:
    def __init__(self) -> None:
        self._failure: TaliaError | None = None
        self.seen: list[Image] = []

    def fail_with(self, error: TaliaError | None) -> None:
        """Every call raises ``error`` until it is set back to ``None``."""
        self._failure = error

    def _look(self, image: Image) -> None:
        if self._failure is not None:
            raise self._failure
        found = sniff(image.content)
        if found is None or found.kind is not MediaKind.IMAGE:
            raise NotMedia("the file is not an image (JPEG, PNG, GIF, WebP)")
        self.seen.append(image)


class FakeImageUnderstanding(_Looking):
    def __init__(self, caption: str = "una foto") -> None:
        super().__init__()
        self._caption = caption
        self._objects: tuple[DetectedObject, ...] = ()

    def will_see(self, *objects: DetectedObject) -> None:
        self._objects = objects

    async def caption(self, image: Image, *, language: str | None = None) -> str:
        self._look(image)
        return self._caption

    async def detect(self, image: Image) -> tuple[DetectedObject, ...]:
        self._look(image)
        width, height, _ = header(image.content)
        return inside(list(self._objects), (width, height))


class FakeSignLanguageReader(_Looking):
    def __init__(
        self, sign: str = "A", score: float = 0.9, alternatives: tuple[tuple[str, float], ...] = ()
    ) -> None:
        super().__init__()
        self._reading = SignReading(sign, score, alternatives)

    async def read(self, image: Image) -> SignReading:
        self._look(image)
        return self._reading
