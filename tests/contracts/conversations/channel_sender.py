"""The contract every ``ChannelSender`` passes: the fake, and each real channel against a local
server speaking its provider's wire format.

How to add a channel: write a harness (any object with the attributes and methods of
``SenderHarness``) over your adapter and your fake provider, then subclass
``ChannelSenderContract`` in a class whose name ends in ``Tests`` with a ``harness`` fixture.
A sender that calls its provider over HTTP subclasses ``RemoteChannelSenderContract``
instead, with a ``RemoteSenderHarness`` and an ``unconfigured`` fixture, and so also runs
what the network does to it (silence, refused connections, a busy provider):

    class TwilioChannelSenderTests(RemoteChannelSenderContract):
        @pytest.fixture
        def harness(self, twilio: FakeTwilio, sender: TwilioChannelSender) -> RemoteSenderHarness:
            return TwilioHarness(twilio, sender)

``tests/integration/channels/test_whatsapp_cloud.py`` (``GraphHarness``) and
``tests/unit/channels/test_fake_channel_sender.py`` (``FakeHarness``) are two examples.
"""

from __future__ import annotations

from typing import Protocol

import attrs
import httpx
import pytest

from talia_core.conversations.errors import DeliveryRefused
from talia_core.conversations.ports import ChannelSender, Outbound
from talia_core.conversations.vocabulary import Channel, ChannelIdentity, MessageType
from talia_core.shared.errors import ExternalServiceUnavailable
from talia_core.shared.ids import new_id
from tests.fakeserver import refusing_port


@attrs.frozen
class Received:
    """One message as the provider got it: whom it was asked to deliver to, and the text."""

    to: str
    text: str | None


class SenderHarness(Protocol):
    @property
    def sender(self) -> ChannelSender:
        """The sender under test, pointed at the provider the harness controls."""
        ...

    @property
    def channel(self) -> Channel: ...

    @property
    def recipient(self) -> ChannelIdentity:
        """An identity the channel can deliver to."""
        ...

    @property
    def thread(self) -> str | None:
        """The channel's own conversation handle for that recipient, if it has one."""
        ...

    @property
    def address(self) -> str:
        """How ``received`` names ``recipient`` (a wa_id, ``whatsapp:+51...``, a conversation
        id)."""
        ...

    def refuse_next(self) -> str:
        """Make the provider refuse the next message for good; the provider's code for it."""
        ...

    def go_down(self, status: int) -> None:
        """Make the provider answer the next request with this HTTP status (500, 503)."""
        ...

    def received(self) -> list[Received]:
        """Every message the provider accepted, in order."""
        ...


class RemoteSenderHarness(SenderHarness, Protocol):
    """A harness over a sender that calls its provider over HTTP."""

    @property
    def base_url(self) -> str:
        """Where the provider listens."""
        ...

    def sender_with(self, client: httpx.AsyncClient, base_url: str) -> ChannelSender:
        """A sender set up like ``sender``, calling ``base_url`` through ``client``."""
        ...

    def go_silent(self) -> None:
        """Make the provider take the next request and never answer it."""
        ...

    def go_busy(self, status: int, retry_after: int) -> None:
        """Make the provider answer the next request with this status (429, 503) and
        ``Retry-After`` in seconds."""
        ...

    def requests(self) -> int:
        """How many requests the provider got."""
        ...


def text_to(harness: SenderHarness, text: str) -> Outbound:
    return Outbound(
        message_id=new_id(),
        channel=harness.channel,
        to=harness.recipient,
        type=MessageType.TEXT,
        thread=harness.thread,
        text=text,
    )


class ChannelSenderContract:
    async def test_a_text_reaches_its_recipient_and_comes_back_with_the_providers_id(
        self, harness: SenderHarness
    ) -> None:
        external_id = await harness.sender.send(text_to(harness, "Hola, ¿en qué te ayudo?"))

        assert isinstance(external_id, str)
        assert external_id.strip()
        assert harness.received() == [Received(harness.address, "Hola, ¿en qué te ayudo?")]

    async def test_two_sends_get_distinct_provider_ids(self, harness: SenderHarness) -> None:
        first = await harness.sender.send(text_to(harness, "uno"))
        second = await harness.sender.send(text_to(harness, "dos"))

        assert first != second
        assert [r.text for r in harness.received()] == ["uno", "dos"]

    async def test_a_permanent_refusal_names_the_providers_code(
        self, harness: SenderHarness
    ) -> None:
        code = harness.refuse_next()

        with pytest.raises(DeliveryRefused) as refused:
            await harness.sender.send(text_to(harness, "hola"))

        assert refused.value.code == code
        assert refused.value.title
        assert harness.received() == []

    @pytest.mark.parametrize("status", [500, 503])
    async def test_a_provider_that_is_down_is_unavailable_and_the_next_send_goes_out(
        self, harness: SenderHarness, status: int
    ) -> None:
        harness.go_down(status)

        with pytest.raises(ExternalServiceUnavailable):
            await harness.sender.send(text_to(harness, "hola"))
        await harness.sender.send(text_to(harness, "hola otra vez"))

        assert harness.received() == [Received(harness.address, "hola otra vez")]

    async def test_handing_off_sends_the_customer_nothing(self, harness: SenderHarness) -> None:
        await harness.sender.hand_off(harness.thread)

        assert harness.received() == []


class RemoteChannelSenderContract(ChannelSenderContract):
    """What the network does to a sender that calls its provider over HTTP.

    Besides ``harness``, the subclass provides ``unconfigured``: a sender missing a setting it
    needs (parametrize the fixture to try each one).
    """

    async def test_a_provider_that_never_answers_times_out_as_unavailable(
        self, harness: RemoteSenderHarness
    ) -> None:
        harness.go_silent()
        async with httpx.AsyncClient(timeout=0.2) as impatient:
            sender = harness.sender_with(impatient, harness.base_url)

            with pytest.raises(ExternalServiceUnavailable, match="timed out") as unavailable:
                await sender.send(text_to(harness, "hola"))

        assert unavailable.value.service == harness.channel.value

    async def test_a_provider_that_cannot_be_reached_is_unavailable(
        self, harness: RemoteSenderHarness
    ) -> None:
        async with httpx.AsyncClient(timeout=5.0) as client:
            with refusing_port() as port:
                sender = harness.sender_with(client, f"http://127.0.0.1:{port}")

                with pytest.raises(ExternalServiceUnavailable, match="ConnectError"):
                    await sender.send(text_to(harness, "hola"))

    @pytest.mark.parametrize("status", [429, 503])
    async def test_a_busy_provider_says_when_to_come_back(
        self, harness: RemoteSenderHarness, status: int
    ) -> None:
        harness.go_busy(status, retry_after=7)

        with pytest.raises(ExternalServiceUnavailable) as unavailable:
            await harness.sender.send(text_to(harness, "hola"))

        assert unavailable.value.service == harness.channel.value
        assert unavailable.value.retry_after_seconds == 7
        assert harness.received() == []

    async def test_an_unconfigured_sender_is_unavailable_without_calling_the_provider(
        self, harness: RemoteSenderHarness, unconfigured: ChannelSender
    ) -> None:
        with pytest.raises(ExternalServiceUnavailable):
            await unconfigured.send(text_to(harness, "hola"))

        assert harness.requests() == 0
