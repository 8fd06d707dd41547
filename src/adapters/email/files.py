"""``FileEmailSender``: each message written as an ``.eml`` file into a directory, and a log
line saying so, for development and the quick start: nothing leaves the machine.

A file is written under a temporary name and renamed, so whoever watches the directory
never reads half a message.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from pathlib import Path

from adapters.email.mime import mime_message
from talia_core.shared.clock import Clock
from talia_core.shared.email import EmailMessage
from talia_core.shared.errors import ExternalServiceUnavailable

logger = logging.getLogger("talia.email")


class FileEmailSender:
    def __init__(self, directory: Path, *, sender: str, clock: Clock) -> None:
        self._directory = directory
        self._sender = sender
        self._clock = clock

    async def send(self, message: EmailMessage) -> None:
        now = self._clock.now()
        content = mime_message(message, sender=self._sender, at=now).as_bytes()
        name = f"{now:%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:12]}.eml"
        try:
            path = await asyncio.to_thread(self._write, name, content)
        except OSError as failure:  # a full disk, a directory that cannot be made
            raise ExternalServiceUnavailable("mail directory", str(failure)) from failure
        logger.info("e-mail to %s (%s) written to %s", message.to, message.subject, path)

    def _write(self, name: str, content: bytes) -> Path:
        self._directory.mkdir(parents=True, exist_ok=True)
        partial = self._directory / f".{name}.part"
        partial.write_bytes(content)
        return partial.replace(self._directory / name)
