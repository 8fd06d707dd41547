"""The contract every ``MediaDownloader`` passes: the fake, and each real channel's against a
local server speaking its provider's wire format.

Subclass ``MediaDownloaderContract`` in a class whose name ends in ``Tests`` with a
``media`` fixture (a ``MediaHarness``); a downloader that fetches over HTTP subclasses
``RemoteMediaDownloaderContract`` with a ``RemoteMediaHarness``, and so also runs the size
limit it enforces on what it streams.
"""

from __future__ import annotations

from typing import Protocol

import pytest

from talia_core.conversations.ports import MediaDownloader
from talia_core.shared.errors import Malformed, NotFound
from talia_core.shared.files import Download

PDF = b"%PDF-1.7\n" + bytes(range(256)) * 8 + b"\n%%EOF"


class MediaHarness(Protocol):
    @property
    def downloader(self) -> MediaDownloader:
        """The downloader under test, pointed at the provider the harness controls."""
        ...

    def serve(self, content: bytes, mime_type: str) -> str:
        """Give the provider a customer's attachment; the reference a channel announces it by."""
        ...

    def missing(self) -> str:
        """A well-formed reference to an attachment the provider does not have."""
        ...


class RemoteMediaHarness(MediaHarness, Protocol):
    def limited_to(self, max_bytes: int) -> MediaDownloader:
        """A downloader set up like ``downloader`` that takes at most ``max_bytes``."""
        ...


class MediaDownloaderContract:
    async def test_an_attachment_comes_back_as_its_bytes_and_media_type(
        self, media: MediaHarness
    ) -> None:
        reference = media.serve(PDF, "application/pdf")

        assert await media.downloader.download(reference) == Download(PDF, "application/pdf")

    async def test_an_attachment_the_provider_does_not_have_is_not_found(
        self, media: MediaHarness
    ) -> None:
        with pytest.raises(NotFound):
            await media.downloader.download(media.missing())


class RemoteMediaDownloaderContract(MediaDownloaderContract):
    async def test_an_attachment_over_the_limit_is_refused(self, media: RemoteMediaHarness) -> None:
        reference = media.serve(PDF, "application/pdf")

        with pytest.raises(Malformed, match=f"over {len(PDF) - 1}"):
            await media.limited_to(len(PDF) - 1).download(reference)
