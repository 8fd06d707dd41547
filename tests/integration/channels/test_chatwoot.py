"""The Chatwoot sender and media downloader against local servers speaking Chatwoot's wire
format: ``FakeChatwoot`` (127.0.0.1) is the application API, ``FakeStorage`` (127.0.0.2,
another origin) the bucket its blob URLs redirect to. See ``chatwoot_server.py``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import attrs
import httpx
import pytest

from adapters.channels.chatwoot.media import ChatwootMediaDownloader
from adapters.channels.chatwoot.sender import ChatwootChannelSender
from talia_core.conversations.errors import DeliveryRefused
from talia_core.conversations.messages import Template
from talia_core.conversations.ports import Outbound
from talia_core.conversations.vocabulary import Channel, ChannelIdentity, IdentityKind, MessageType
from talia_core.shared.errors import ExternalServiceUnavailable, Malformed
from talia_core.shared.files import Download
from tests.contracts.conversations.channel_sender import (
    Received,
    RemoteChannelSenderContract,
    RemoteSenderHarness,
)
from tests.contracts.conversations.media_downloader import (
    RemoteMediaDownloaderContract,
    RemoteMediaHarness,
)
from tests.fakeserver import Reply, refusing_port
from tests.integration.channels.chatwoot_server import (
    FakeChatwoot,
    FakeStorage,
    chatwoot_error,
    record_invalid,
)

ACCOUNT_ID = 7
TOKEN = "bot-token-" + "x" * 22
CONVERSATION = 42
LUIS = ChannelIdentity(IdentityKind.CHATWOOT_CONTACT, "1203")
PDF = b"%PDF-1.7\n" + bytes(range(256)) * 8 + b"\n%%EOF"


@pytest.fixture
async def storage() -> AsyncIterator[FakeStorage]:
    server = FakeStorage("127.0.0.2")
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def chatwoot(storage: FakeStorage) -> AsyncIterator[FakeChatwoot]:
    server = FakeChatwoot(ACCOUNT_ID, TOKEN, storage=storage)
    server.start_conversation(CONVERSATION)
    await server.start()
    yield server
    await server.close()


def sender_at(client: httpx.AsyncClient, base_url: str, **overrides: Any) -> ChatwootChannelSender:
    settings: dict[str, Any] = {"account_id": ACCOUNT_ID, "api_access_token": TOKEN} | overrides
    return ChatwootChannelSender(client, base_url=base_url, **settings)


@pytest.fixture
def sender(client: httpx.AsyncClient, chatwoot: FakeChatwoot) -> ChatwootChannelSender:
    return sender_at(client, chatwoot.base_url)


@pytest.fixture(
    params=[{"base_url": ""}, {"account_id": ""}, {"api_access_token": ""}],
    ids=["url", "account", "token"],
)
def unconfigured(
    request: pytest.FixtureRequest, client: httpx.AsyncClient, chatwoot: FakeChatwoot
) -> ChatwootChannelSender:
    """A sender missing one of its settings."""
    return sender_at(client, **({"base_url": chatwoot.base_url} | request.param))


@pytest.fixture
def downloader(client: httpx.AsyncClient, chatwoot: FakeChatwoot) -> ChatwootMediaDownloader:
    return ChatwootMediaDownloader(client, base_url=chatwoot.base_url)


def outbound(text: str | None = "Hola Luis", **fields: Any) -> Outbound:
    message = Outbound(
        message_id="msg-1",
        channel=Channel.CHATWOOT,
        to=LUIS,
        type=MessageType.TEXT,
        thread=str(CONVERSATION),
        text=text,
    )
    return attrs.evolve(message, **fields)


# ------------------------------------------------------------------------ the contract


@attrs.frozen
class ChatwootHarness:
    chatwoot: FakeChatwoot
    sender: ChatwootChannelSender
    channel: Channel = Channel.CHATWOOT
    recipient: ChannelIdentity = LUIS
    thread: str | None = str(CONVERSATION)
    address: str = str(CONVERSATION)

    @property
    def base_url(self) -> str:
        return self.chatwoot.base_url

    def sender_with(self, client: httpx.AsyncClient, base_url: str) -> ChatwootChannelSender:
        return sender_at(client, base_url)

    def refuse_next(self) -> str:
        invalid = record_invalid("Conversation is resolved and cannot be replied to")
        self.chatwoot.answer_next(Reply(422, invalid))
        return "422"

    def go_down(self, status: int) -> None:
        self.chatwoot.answer_next(Reply(status, b"<html><body>We're sorry</body></html>"))

    def go_silent(self) -> None:
        self.chatwoot.answer_next(Reply(stall=True))

    def go_busy(self, status: int, retry_after: int) -> None:
        busy = chatwoot_error("Too many requests")
        self.chatwoot.answer_next(Reply(status, busy, {"Retry-After": str(retry_after)}))

    def requests(self) -> int:
        return len(self.chatwoot.requests)

    def received(self) -> list[Received]:
        return [
            Received(str(conversation.display_id), message["content"])
            for conversation in self.chatwoot.conversations.values()
            for message in conversation.messages
        ]


class ChatwootChannelSenderTests(RemoteChannelSenderContract):
    @pytest.fixture
    def harness(self, chatwoot: FakeChatwoot, sender: ChatwootChannelSender) -> RemoteSenderHarness:
        return ChatwootHarness(chatwoot, sender)


# --------------------------------------------------------------------------- sending


async def test_a_reply_is_an_outgoing_public_message_of_the_conversation(
    chatwoot: FakeChatwoot, sender: ChatwootChannelSender
) -> None:
    external_id = await sender.send(outbound("Hola Luis, ¿en qué te ayudo? 100% & más"))

    [request] = chatwoot.requests
    assert (request.method, request.path) == (
        "POST",
        f"/api/v1/accounts/{ACCOUNT_ID}/conversations/{CONVERSATION}/messages",
    )
    assert request.headers["api_access_token"] == TOKEN
    assert request.headers["content-type"] == "application/json"
    assert "authorization" not in request.headers
    assert request.json() == {
        "content": "Hola Luis, ¿en qué te ayudo? 100% & más",
        "message_type": "outgoing",
        "private": False,
    }
    [message] = chatwoot.conversations[CONVERSATION].messages
    assert external_id == str(message["id"])


async def test_a_chatwoot_below_a_path_is_called_there(
    chatwoot: FakeChatwoot, client: httpx.AsyncClient
) -> None:
    chatwoot.answer_next(Reply(200, {"id": 5}))
    sender = sender_at(client, chatwoot.base_url + "/chatwoot/", account_id="7")

    external_id = await sender.send(outbound())

    path = f"/chatwoot/api/v1/accounts/7/conversations/{CONVERSATION}/messages"
    assert chatwoot.requests[0].path == path
    assert external_id == "5"


async def test_a_media_link_goes_under_its_caption(
    chatwoot: FakeChatwoot, sender: ChatwootChannelSender
) -> None:
    await sender.send(
        outbound(
            "Tu invitación",
            type=MessageType.IMAGE,
            media_url="https://talia.example.com/files/invitation.jpg",
        )
    )

    assert chatwoot.requests[0].json()["content"] == (
        "Tu invitación\nhttps://talia.example.com/files/invitation.jpg"
    )


@pytest.mark.parametrize(
    "message",
    [
        outbound(thread=None),
        outbound(thread="42/toggle_status?x="),
        outbound(thread="٤٢"),
        outbound(None, type=MessageType.TEMPLATE, template=Template("welcome", "es", ("Luis",))),
        outbound("   "),
        outbound(None, type=MessageType.LOCATION),
    ],
    ids=["no-thread", "path-in-thread", "non-ascii-digits", "template", "blank", "no-text"],
)
async def test_what_chatwoot_cannot_take_is_refused_without_calling_it(
    chatwoot: FakeChatwoot, sender: ChatwootChannelSender, message: Outbound
) -> None:
    with pytest.raises(DeliveryRefused) as refused:
        await sender.send(message)

    assert refused.value.channel == "chatwoot"
    assert chatwoot.requests == []


async def test_a_conversation_chatwoot_does_not_have_is_refused_as_404(
    chatwoot: FakeChatwoot, sender: ChatwootChannelSender
) -> None:
    with pytest.raises(DeliveryRefused) as refused:
        await sender.send(outbound(thread="404"))

    assert (refused.value.code, refused.value.title) == ("404", "Resource could not be found")


async def test_an_invalid_message_is_refused_with_chatwoots_reason(
    chatwoot: FakeChatwoot, sender: ChatwootChannelSender
) -> None:
    with pytest.raises(DeliveryRefused) as refused:
        await sender.send(outbound("x" * 150_001))

    assert refused.value.code == "422"
    assert refused.value.title == "Content is too long (maximum is 150000 characters)"
    assert chatwoot.conversations[CONVERSATION].messages == []


async def test_a_refusal_without_chatwoots_error_still_says_its_status(
    chatwoot: FakeChatwoot, sender: ChatwootChannelSender
) -> None:
    chatwoot.answer_next(Reply(400, b"<html>Bad Request</html>"))

    with pytest.raises(DeliveryRefused) as refused:
        await sender.send(outbound())

    assert (refused.value.code, refused.value.title) == ("400", "HTTP 400")


async def test_a_wrong_token_leaves_chatwoot_unavailable_not_the_message_refused(
    chatwoot: FakeChatwoot, client: httpx.AsyncClient
) -> None:
    sender = sender_at(client, chatwoot.base_url, api_access_token="stale-token")

    with pytest.raises(ExternalServiceUnavailable, match="Invalid Access Token") as unavailable:
        await sender.send(outbound())

    assert chatwoot.requests[0].headers["api_access_token"] == "stale-token"
    assert unavailable.value.service == "chatwoot"
    assert chatwoot.conversations[CONVERSATION].messages == []


async def test_another_account_leaves_chatwoot_unavailable(
    chatwoot: FakeChatwoot, client: httpx.AsyncClient
) -> None:
    with pytest.raises(ExternalServiceUnavailable, match="not authorized"):
        await sender_at(client, chatwoot.base_url, account_id=8).send(outbound())

    assert chatwoot.requests[0].path == f"/api/v1/accounts/8/conversations/{CONVERSATION}/messages"


async def test_a_bot_without_access_to_the_inbox_leaves_chatwoot_unavailable(
    chatwoot: FakeChatwoot, sender: ChatwootChannelSender
) -> None:
    chatwoot.answer_next(Reply(403, chatwoot_error("Access denied")))

    with pytest.raises(ExternalServiceUnavailable, match="Access denied"):
        await sender.send(outbound())


@pytest.mark.parametrize(
    "reply",
    [
        Reply(502, b""),
        Reply(200, {"content": "Hola Luis"}),
        Reply(200, b"<html>ok</html>"),
        Reply(302, b"", {"Location": "/app/login"}),
    ],
    ids=["502", "no-id", "html-200", "redirect"],
)
async def test_an_answer_that_is_not_chatwoots_leaves_it_unavailable(
    chatwoot: FakeChatwoot, sender: ChatwootChannelSender, reply: Reply
) -> None:
    chatwoot.answer_next(reply)

    with pytest.raises(ExternalServiceUnavailable):
        await sender.send(outbound())

    assert len(chatwoot.requests) == 1


def test_a_chatwoot_url_without_a_scheme_is_refused_at_start(client: httpx.AsyncClient) -> None:
    with pytest.raises(ValueError, match="https://"):
        sender_at(client, "chat.example.com")


# ------------------------------------------------------------------------- hand-off


async def test_handing_off_opens_the_conversation_for_the_agents(
    chatwoot: FakeChatwoot, sender: ChatwootChannelSender
) -> None:
    await sender.hand_off(str(CONVERSATION))

    [request] = chatwoot.requests
    assert (request.method, request.path) == (
        "POST",
        f"/api/v1/accounts/{ACCOUNT_ID}/conversations/{CONVERSATION}/toggle_status",
    )
    assert request.headers["api_access_token"] == TOKEN
    assert request.json() == {"status": "open"}
    assert chatwoot.conversations[CONVERSATION].status == "open"
    assert chatwoot.conversations[CONVERSATION].messages == []


async def test_a_hand_off_without_a_conversation_calls_nobody(
    chatwoot: FakeChatwoot, sender: ChatwootChannelSender
) -> None:
    await sender.hand_off(None)

    assert chatwoot.requests == []


async def test_handing_off_a_conversation_chatwoot_does_not_have_is_refused(
    chatwoot: FakeChatwoot, sender: ChatwootChannelSender
) -> None:
    with pytest.raises(DeliveryRefused) as refused:
        await sender.hand_off("404")

    assert refused.value.code == "404"


async def test_a_hand_off_to_an_unreachable_chatwoot_is_unavailable(
    client: httpx.AsyncClient,
) -> None:
    with refusing_port() as port:
        sender = sender_at(client, f"http://127.0.0.1:{port}")

        with pytest.raises(ExternalServiceUnavailable, match="ConnectError"):
            await sender.hand_off(str(CONVERSATION))


async def test_an_unconfigured_sender_hands_off_nothing_and_is_unavailable(
    chatwoot: FakeChatwoot, unconfigured: ChatwootChannelSender
) -> None:
    with pytest.raises(ExternalServiceUnavailable, match="not configured"):
        await unconfigured.hand_off(str(CONVERSATION))

    assert chatwoot.requests == []


async def test_a_hand_off_while_chatwoot_is_down_is_unavailable(
    chatwoot: FakeChatwoot, sender: ChatwootChannelSender
) -> None:
    chatwoot.answer_next(Reply(503, b"", {"Retry-After": "30"}))

    with pytest.raises(ExternalServiceUnavailable) as unavailable:
        await sender.hand_off(str(CONVERSATION))

    assert unavailable.value.retry_after_seconds == 30
    assert chatwoot.conversations[CONVERSATION].status == "pending"


# ---------------------------------------------------------------------------- media


@attrs.frozen
class ChatwootMediaHarness:
    chatwoot: FakeChatwoot
    storage: FakeStorage
    client: httpx.AsyncClient

    @property
    def downloader(self) -> ChatwootMediaDownloader:
        return ChatwootMediaDownloader(self.client, base_url=self.chatwoot.base_url)

    def limited_to(self, max_bytes: int) -> ChatwootMediaDownloader:
        return ChatwootMediaDownloader(
            self.client, base_url=self.chatwoot.base_url, max_bytes=max_bytes
        )

    def serve(self, content: bytes, mime_type: str) -> str:
        return self.chatwoot.attach(content, mime_type, "factura.pdf")

    def missing(self) -> str:
        """An attachment whose file is no longer in storage."""
        data_url = self.serve(PDF, "application/pdf")
        self.storage.files.clear()
        return data_url


class ChatwootMediaDownloaderTests(RemoteMediaDownloaderContract):
    @pytest.fixture
    def media(
        self, chatwoot: FakeChatwoot, storage: FakeStorage, client: httpx.AsyncClient
    ) -> RemoteMediaHarness:
        return ChatwootMediaHarness(chatwoot, storage, client)


async def test_an_attachment_follows_the_blob_redirect_to_storage_without_credentials(
    chatwoot: FakeChatwoot, storage: FakeStorage, downloader: ChatwootMediaDownloader
) -> None:
    data_url = chatwoot.attach(PDF, "application/pdf", "factura.pdf")

    download = await downloader.download(data_url)

    assert download == Download(PDF, "application/pdf")
    [blob] = chatwoot.requests
    [file] = storage.requests
    assert blob.path.endswith("/factura.pdf")
    assert file.path == chatwoot.blobs[blob.path].removeprefix(storage.base_url)
    for request in (blob, file):
        assert "api_access_token" not in request.headers
        assert "authorization" not in request.headers


async def test_a_content_type_with_parameters_gives_the_bare_media_type(
    chatwoot: FakeChatwoot, downloader: ChatwootMediaDownloader
) -> None:
    data_url = chatwoot.attach(b"hola", "text/plain; charset=utf-8", "nota.txt")

    assert await downloader.download(data_url) == Download(b"hola", "text/plain")


@pytest.mark.parametrize(
    "reference",
    [
        "https://evil.example.com/rails/active_storage/blobs/redirect/x/a.jpg",
        "http://127.0.0.2:1/a.jpg",
        "file:///etc/passwd",
        "not a url at all",
    ],
    ids=["other-host", "other-origin", "file", "garbage"],
)
async def test_an_attachment_outside_chatwoots_origin_is_refused_without_a_request(
    chatwoot: FakeChatwoot,
    storage: FakeStorage,
    downloader: ChatwootMediaDownloader,
    reference: str,
) -> None:
    with pytest.raises(Malformed):
        await downloader.download(reference)

    assert chatwoot.requests == []
    assert storage.requests == []


async def test_the_same_host_on_another_port_is_another_origin(
    chatwoot: FakeChatwoot, client: httpx.AsyncClient
) -> None:
    data_url = chatwoot.attach(PDF, "application/pdf", "factura.pdf")
    port = int(chatwoot.base_url.rsplit(":", 1)[1])
    downloader = ChatwootMediaDownloader(client, base_url=f"http://127.0.0.1:{port + 1}")

    with pytest.raises(Malformed):
        await downloader.download(data_url)

    assert chatwoot.requests == []


async def test_a_url_with_credentials_is_refused(
    chatwoot: FakeChatwoot, downloader: ChatwootMediaDownloader
) -> None:
    data_url = chatwoot.attach(PDF, "application/pdf", "factura.pdf")
    with_credentials = data_url.replace("http://", "http://admin:secret@")

    with pytest.raises(Malformed, match="credentials"):
        await downloader.download(with_credentials)

    assert chatwoot.requests == []


async def test_an_allowed_origin_is_fetched_directly(
    chatwoot: FakeChatwoot, storage: FakeStorage, client: httpx.AsyncClient
) -> None:
    url = storage.put("/direct/audio.ogg", b"OggS" + b"\x00" * 60, "audio/ogg")
    downloader = ChatwootMediaDownloader(
        client, base_url=chatwoot.base_url, allowed_origins=[storage.base_url + "/"]
    )

    download = await downloader.download(url)

    assert download.mime_type == "audio/ogg"
    assert chatwoot.requests == []


async def test_storage_that_is_down_leaves_the_media_unavailable(
    chatwoot: FakeChatwoot, storage: FakeStorage, downloader: ChatwootMediaDownloader
) -> None:
    data_url = chatwoot.attach(PDF, "application/pdf", "factura.pdf")
    storage.answer_next(Reply(503, b"", {"Retry-After": "5"}))

    with pytest.raises(ExternalServiceUnavailable) as unavailable:
        await downloader.download(data_url)

    assert unavailable.value.retry_after_seconds == 5


async def test_a_redirect_loop_ends_as_unavailable(
    chatwoot: FakeChatwoot, downloader: ChatwootMediaDownloader
) -> None:
    loop = chatwoot.base_url + "/rails/active_storage/blobs/redirect/loop/a.jpg"
    for _ in range(6):
        chatwoot.answer_next(Reply(302, b"", {"Location": loop}))

    with pytest.raises(ExternalServiceUnavailable, match="too many"):
        await downloader.download(loop)

    assert len(chatwoot.requests) == 6


async def test_an_attachment_without_a_declared_length_is_cut_at_the_limit(
    chatwoot: FakeChatwoot, client: httpx.AsyncClient
) -> None:
    chatwoot.answer_next(Reply(200, b"helloworld", declare_length=False))
    downloader = ChatwootMediaDownloader(client, base_url=chatwoot.base_url, max_bytes=8)

    with pytest.raises(Malformed, match="over 8 bytes"):
        await downloader.download(chatwoot.base_url + "/rails/active_storage/blobs/redirect/a/b")
