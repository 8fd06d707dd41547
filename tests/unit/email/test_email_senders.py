"""The fake sender and the directory of ``.eml`` files pass the sender contract."""

from __future__ import annotations

import asyncio
import email
import email.message
import email.policy
import logging
import shutil
from pathlib import Path

import attrs
import pytest

from adapters.email.files import FileEmailSender
from adapters.memory.email import FakeEmailSender
from talia_core.shared.clock import SystemClock
from talia_core.shared.email import EmailRefused, EmailSender
from talia_core.shared.errors import ExternalServiceUnavailable
from tests.contracts.email.email_sender import (
    FROM,
    RESET,
    WELCOME,
    MimeEmailSenderContract,
    Received,
    RefusingEmailSenderContract,
    SenderHarness,
    read_mime,
    received,
)


@attrs.frozen
class FakeHarness:
    fake: FakeEmailSender = attrs.field(factory=FakeEmailSender)

    @property
    def sender(self) -> EmailSender:
        return self.fake

    def go_down(self) -> None:
        self.fake.fail_next(1)

    def come_back(self) -> None:
        """The fake's outage lasts the one message it was told of."""

    def refuse_next(self) -> None:
        self.fake.refuse_next()

    def received(self) -> list[Received]:
        return [received(message) for message in self.fake.sent]


class FakeEmailSenderTests(RefusingEmailSenderContract):
    @pytest.fixture
    def harness(self) -> SenderHarness:
        return FakeHarness()


@attrs.frozen
class DirectoryHarness:
    directory: Path

    @property
    def sender(self) -> EmailSender:
        return FileEmailSender(self.directory, sender=FROM, clock=SystemClock())

    def go_down(self) -> None:
        """A file where the directory should be: nothing can be written there."""
        shutil.rmtree(self.directory, ignore_errors=True)
        self.directory.write_text("not a directory")

    def come_back(self) -> None:
        self.directory.unlink()

    def mime(self) -> list[email.message.EmailMessage]:
        if not self.directory.is_dir():
            return []
        files = sorted(self.directory.glob("*.eml"), key=lambda f: (f.stat().st_mtime_ns, f.name))
        return [
            email.message_from_bytes(f.read_bytes(), policy=email.policy.default) for f in files
        ]

    def received(self) -> list[Received]:
        return [read_mime(m) for m in self.mime()]


class FileEmailSenderTests(MimeEmailSenderContract):
    @pytest.fixture
    def harness(self, tmp_path: Path) -> SenderHarness:
        return DirectoryHarness(tmp_path / "mail")


async def test_the_file_sender_logs_where_it_wrote_each_message(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sender = FileEmailSender(tmp_path, sender=FROM, clock=SystemClock())
    with caplog.at_level(logging.INFO, logger="talia.email"):
        await sender.send(WELCOME)

    [written] = await asyncio.to_thread(lambda: list(tmp_path.iterdir()))
    assert written.suffix == ".eml"
    assert str(written) in caplog.text
    assert WELCOME.to in caplog.text


async def test_the_fake_fails_before_it_refuses_and_each_lasts_its_count() -> None:
    fake = FakeEmailSender()
    fake.refuse_next()
    fake.fail_next(2)

    for _ in range(2):
        with pytest.raises(ExternalServiceUnavailable):
            await fake.send(WELCOME)
    with pytest.raises(EmailRefused):
        await fake.send(WELCOME)
    await fake.send(RESET)

    assert fake.sent == [RESET]
