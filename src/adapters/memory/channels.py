"""Fake channels for tests: a sender that records what it sends, a media store by reference.

``FakeChannelSender`` passes the ``ChannelSender`` contract suite
(``tests/contracts/conversations/channel_sender.py``), so it can stand in for any channel:

    sender = FakeChannelSender()
    sender.refuse_next("131026", "Message undeliverable")  # the next send: DeliveryRefused
    sender.fail_next(2)  # the next two calls: ExternalServiceUnavailable
    ...
    sender.sent         # every Outbound accepted, in order
    sender.ids          # Outbound.message_id -> the provider id it got ("fake-1", ...)
    sender.hand_offs    # the thread of every hand-off, in order

``FakeMediaDownloader`` serves what it was given with ``serve`` and answers ``NotFound`` for
anything else, as the WhatsApp downloader does for a media id the Graph API does not know;
``downloads`` lists every reference asked for.
"""

from __future__ import annotations

from collections import deque

from talia_core.conversations.errors import DeliveryRefused
from talia_core.conversations.ports import Outbound
from talia_core.shared.errors import ExternalServiceUnavailable, NotFound
from talia_core.shared.files import Download


class FakeChannelSender:
    def __init__(self) -> None:
        self.sent: list[Outbound] = []
        self.ids: dict[str, str] = {}
        self.hand_offs: list[str | None] = []
        self._refusals: deque[tuple[str | None, str]] = deque()
        self._failures = 0

    def refuse_next(self, code: str | None, title: str) -> None:
        """The next send that is not failed is refused for good with this code and title;
        calls queue up, one refusal per send."""
        self._refusals.append((code, title))

    def fail_next(self, times: int = 1) -> None:
        """The next ``times`` calls (sends or hand-offs) find the provider down."""
        self._failures += times

    async def send(self, message: Outbound) -> str:
        self._maybe_down()
        if self._refusals:
            code, title = self._refusals.popleft()
            raise DeliveryRefused(message.channel.value, code, title)
        external_id = f"fake-{len(self.sent) + 1}"
        self.sent.append(message)
        self.ids[message.message_id] = external_id
        return external_id

    async def hand_off(self, thread: str | None) -> None:
        self._maybe_down()
        self.hand_offs.append(thread)

    def _maybe_down(self) -> None:
        if self._failures > 0:
            self._failures -= 1
            raise ExternalServiceUnavailable("fake-channel", "unavailable (told to fail)")


class FakeMediaDownloader:
    def __init__(self) -> None:
        self._files: dict[str, Download] = {}
        self.downloads: list[str] = []

    def serve(self, reference: str, content: bytes, mime_type: str) -> None:
        """Make ``reference`` downloadable as these bytes."""
        self._files[reference] = Download(content, mime_type)

    async def download(self, reference: str) -> Download:
        self.downloads.append(reference)
        try:
            return self._files[reference]
        except KeyError:
            raise NotFound("media", reference) from None
