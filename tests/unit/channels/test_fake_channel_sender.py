"""The fake channel sender passes the sender contract, the fake media downloader the media
downloader contract. Other tests lean on both, so what they promise is pinned here.

The fake calls no provider, so of the contract's failures it runs the outage it can be told
of (``fail_next``), not what the network does to a remote sender
(``RemoteChannelSenderContract``)."""

from __future__ import annotations

import attrs
import pytest

from adapters.memory.channels import FakeChannelSender, FakeMediaDownloader
from talia_core.conversations.errors import DeliveryRefused
from talia_core.conversations.ports import ChannelSender
from talia_core.conversations.vocabulary import Channel, ChannelIdentity, IdentityKind
from talia_core.shared.errors import ExternalServiceUnavailable, NotFound
from tests.contracts.conversations.channel_sender import (
    ChannelSenderContract,
    Received,
    SenderHarness,
    text_to,
)
from tests.contracts.conversations.media_downloader import MediaDownloaderContract, MediaHarness

ANA = ChannelIdentity(IdentityKind.WA_ID, "51987654321")


@attrs.frozen
class FakeHarness:
    fake: FakeChannelSender
    channel: Channel = Channel.WHATSAPP
    recipient: ChannelIdentity = ANA
    thread: str | None = None

    @property
    def sender(self) -> ChannelSender:
        return self.fake

    @property
    def address(self) -> str:
        return self.recipient.value

    def refuse_next(self) -> str:
        self.fake.refuse_next("131026", "Message undeliverable")
        return "131026"

    def go_down(self, status: int) -> None:
        self.fake.fail_next()

    def received(self) -> list[Received]:
        return [Received(o.to.value, o.text) for o in self.fake.sent]


@pytest.fixture
def fake() -> FakeChannelSender:
    return FakeChannelSender()


class FakeChannelSenderTests(ChannelSenderContract):
    @pytest.fixture
    def harness(self, fake: FakeChannelSender) -> SenderHarness:
        return FakeHarness(fake)


async def test_each_sent_message_is_mapped_to_the_id_it_got(fake: FakeChannelSender) -> None:
    harness = FakeHarness(fake)
    first, second = text_to(harness, "uno"), text_to(harness, "dos")

    ids = [await fake.send(first), await fake.send(second)]

    assert ids == ["fake-1", "fake-2"]
    assert fake.ids == {first.message_id: "fake-1", second.message_id: "fake-2"}


async def test_refusals_queue_up_one_per_send_and_name_the_channel(
    fake: FakeChannelSender,
) -> None:
    harness = FakeHarness(fake, channel=Channel.TWILIO)
    fake.refuse_next("63016", "outside the window")
    fake.refuse_next(None, "blocked")

    with pytest.raises(DeliveryRefused) as first:
        await fake.send(text_to(harness, "a"))
    with pytest.raises(DeliveryRefused) as second:
        await fake.send(text_to(harness, "b"))
    await fake.send(text_to(harness, "c"))

    assert (first.value.channel, first.value.code, first.value.title) == (
        "twilio",
        "63016",
        "outside the window",
    )
    assert (second.value.code, second.value.title) == (None, "blocked")
    assert [o.text for o in fake.sent] == ["c"]


async def test_an_outage_lasts_the_calls_it_was_told_and_covers_hand_offs(
    fake: FakeChannelSender,
) -> None:
    fake.fail_next(2)

    with pytest.raises(ExternalServiceUnavailable, match="unavailable"):
        await fake.hand_off("42")
    with pytest.raises(ExternalServiceUnavailable):
        await fake.send(text_to(FakeHarness(fake), "hola"))
    await fake.hand_off("42")

    assert fake.hand_offs == ["42"]
    assert fake.sent == []


async def test_an_outage_comes_before_a_queued_refusal(fake: FakeChannelSender) -> None:
    fake.refuse_next("131047", "Re-engagement message")
    fake.fail_next()

    with pytest.raises(ExternalServiceUnavailable):
        await fake.send(text_to(FakeHarness(fake), "hola"))
    with pytest.raises(DeliveryRefused, match="Re-engagement"):
        await fake.send(text_to(FakeHarness(fake), "hola"))


@attrs.frozen
class FakeMediaHarness:
    downloader: FakeMediaDownloader

    def serve(self, content: bytes, mime_type: str) -> str:
        self.downloader.serve("media-1", content, mime_type)
        return "media-1"

    def missing(self) -> str:
        return "missing"


class FakeMediaDownloaderTests(MediaDownloaderContract):
    @pytest.fixture
    def media(self) -> MediaHarness:
        return FakeMediaHarness(FakeMediaDownloader())


async def test_the_media_downloader_lists_every_reference_it_was_asked_for() -> None:
    media = FakeMediaDownloader()
    media.serve("media-1", b"\x89PNG", "image/png")

    await media.download("media-1")
    with pytest.raises(NotFound):
        await media.download("missing")

    assert media.downloads == ["media-1", "missing"]
