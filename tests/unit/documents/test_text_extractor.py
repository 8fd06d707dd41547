"""The ``TextExtractor`` contract on the in-process extractor of every format."""

from __future__ import annotations

import pytest

from adapters.documents.extractor import LocalTextExtractor
from tests.contracts.knowledge.text_extractor import TextExtractorContract


class LocalTextExtractorTests(TextExtractorContract):
    @pytest.fixture
    def extractor(self) -> LocalTextExtractor:
        return LocalTextExtractor()
