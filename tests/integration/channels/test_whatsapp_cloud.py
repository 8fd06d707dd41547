"""The WhatsApp Cloud API sender and media downloader against a local server speaking the
Graph API's wire format (``graph_server.FakeGraph``): what goes over the wire, how Meta's
errors are read, and the channel sender contract."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator
from typing import Any

import attrs
import httpx
import pytest

from adapters.channels.whatsapp.graph import API_VERSION
from adapters.channels.whatsapp.media import WhatsAppCloudMediaDownloader
from adapters.channels.whatsapp.sender import WhatsAppCloudChannelSender
from talia_core.conversations.errors import DeliveryRefused
from talia_core.conversations.events import Location
from talia_core.conversations.messages import Template
from talia_core.conversations.ports import ChannelSender, Outbound
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
from tests.fakeserver import Reply
from tests.integration.channels.graph_server import ATTACHMENTS, FakeGraph, graph_error

TOKEN = "EAAGtest" + "x" * 40
PHONE_NUMBER_ID = "106540352242922"
MESSAGES = f"/{API_VERSION}/{PHONE_NUMBER_ID}/messages"
ANA = ChannelIdentity(IdentityKind.WA_ID, "51987654321")
ANA_BSUID = ChannelIdentity(IdentityKind.BSUID, "PE.13491208655302741918")
MEDIA_ID = "1037543291543636"


@pytest.fixture
async def graph() -> AsyncIterator[FakeGraph]:
    server = FakeGraph(token=TOKEN, phone_number_id=PHONE_NUMBER_ID, version=API_VERSION)
    await server.start()
    yield server
    await server.close()


def sender_at(
    client: httpx.AsyncClient, base_url: str, **overrides: str
) -> WhatsAppCloudChannelSender:
    settings = {"phone_number_id": PHONE_NUMBER_ID, "access_token": TOKEN} | overrides
    return WhatsAppCloudChannelSender(client, base_url=base_url, **settings)


@pytest.fixture
def sender(client: httpx.AsyncClient, graph: FakeGraph) -> WhatsAppCloudChannelSender:
    return sender_at(client, graph.base_url)


@pytest.fixture
def downloader(client: httpx.AsyncClient, graph: FakeGraph) -> WhatsAppCloudMediaDownloader:
    return WhatsAppCloudMediaDownloader(client, access_token=TOKEN, base_url=graph.base_url)


def outbound(type: MessageType = MessageType.TEXT, **fields: Any) -> Outbound:
    values: dict[str, Any] = {"to": ANA, "text": "Hola"} | fields
    return Outbound(message_id="msg-1", channel=Channel.WHATSAPP, type=type, **values)


# ------------------------------------------------------------------------------ contract


@attrs.frozen
class GraphHarness:
    graph: FakeGraph
    whatsapp: WhatsAppCloudChannelSender
    channel: Channel = Channel.WHATSAPP
    recipient: ChannelIdentity = ANA
    thread: str | None = None

    @property
    def sender(self) -> ChannelSender:
        return self.whatsapp

    @property
    def address(self) -> str:
        return self.recipient.value

    @property
    def base_url(self) -> str:
        return self.graph.base_url

    def sender_with(self, client: httpx.AsyncClient, base_url: str) -> ChannelSender:
        return sender_at(client, base_url)

    def refuse_next(self) -> str:
        details = "Unable to deliver message. Reasons can include: the recipient's phone number"
        error = graph_error(131026, "Message undeliverable", details=details)
        self.graph.answer_next(Reply(400, error))
        return "131026"

    def go_down(self, status: int) -> None:
        body = graph_error(131000, "Something went wrong") if status == 500 else b""
        self.graph.answer_next(Reply(status, body))

    def go_silent(self) -> None:
        self.graph.answer_next(Reply(stall=True))

    def go_busy(self, status: int, retry_after: int) -> None:
        body = graph_error(130429, "Rate limit hit") if status == 429 else b""
        self.graph.answer_next(Reply(status, body, {"Retry-After": str(retry_after)}))

    def requests(self) -> int:
        return len(self.graph.requests)

    def received(self) -> list[Received]:
        return [
            Received(p.get("to") or p["recipient"], p.get("text", {}).get("body"))
            for p in self.graph.sent
        ]


class WhatsAppCloudChannelSenderTests(RemoteChannelSenderContract):
    @pytest.fixture
    def harness(self, graph: FakeGraph, sender: WhatsAppCloudChannelSender) -> RemoteSenderHarness:
        return GraphHarness(graph, sender)

    @pytest.fixture
    def unconfigured(
        self, client: httpx.AsyncClient, graph: FakeGraph
    ) -> WhatsAppCloudChannelSender:
        return sender_at(client, graph.base_url, access_token="")


# ------------------------------------------------------------------------------ sending


async def test_a_text_is_posted_to_the_phone_numbers_messages_with_the_bearer_token(
    graph: FakeGraph, sender: WhatsAppCloudChannelSender
) -> None:
    external_id = await sender.send(outbound(text="Hola, ¿cómo te ayudo?"))

    [request] = graph.requests
    assert (request.method, request.path) == ("POST", MESSAGES)
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["content-type"] == "application/json"
    assert request.json() == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "51987654321",
        "type": "text",
        "text": {"body": "Hola, ¿cómo te ayudo?"},
        "biz_opaque_callback_data": "msg-1",
    }
    assert external_id == "wamid.HBgLNTE5ODc2NTQzMjEVAgARGBI0001"


async def test_messages_in_a_row_reuse_one_connection_graph_keeps_open(
    graph: FakeGraph, sender: WhatsAppCloudChannelSender
) -> None:
    graph.keep_alive = True

    for part in ("Hola", "Tenemos tres planes", "¿Para qué fecha es tu boda?"):
        await sender.send(outbound(text=part))

    assert [request.json()["text"]["body"] for request in graph.requests] == [
        "Hola",
        "Tenemos tres planes",
        "¿Para qué fecha es tu boda?",
    ]
    assert graph.connections == 1


async def test_a_customer_known_only_by_business_scoped_id_is_addressed_as_recipient(
    graph: FakeGraph, sender: WhatsAppCloudChannelSender
) -> None:
    await sender.send(outbound(to=ANA_BSUID))

    sent = graph.requests[0].json()
    assert sent["recipient"] == "PE.13491208655302741918"
    assert "to" not in sent


async def test_a_template_carries_its_language_and_body_parameters(
    graph: FakeGraph, sender: WhatsAppCloudChannelSender
) -> None:
    template = Template("cita_confirmada", "es_PE", ("Ana", "martes 10:00"))

    await sender.send(outbound(MessageType.TEMPLATE, text=None, template=template))

    sent = graph.requests[0].json()
    assert sent["type"] == "template"
    assert sent["template"] == {
        "name": "cita_confirmada",
        "language": {"code": "es_PE"},
        "components": [
            {
                "type": "body",
                "parameters": [
                    {"type": "text", "text": "Ana"},
                    {"type": "text", "text": "martes 10:00"},
                ],
            }
        ],
    }


async def test_a_template_without_parameters_has_no_components(
    graph: FakeGraph, sender: WhatsAppCloudChannelSender
) -> None:
    await sender.send(outbound(MessageType.TEMPLATE, text=None, template=Template("hola", "es")))

    assert graph.requests[0].json()["template"] == {"name": "hola", "language": {"code": "es"}}


@pytest.mark.parametrize(
    ("type", "text", "expected"),
    [
        (
            MessageType.IMAGE,
            "la invitación",
            {"link": "https://cdn.example/i.jpg", "caption": "la invitación"},
        ),
        (MessageType.DOCUMENT, None, {"link": "https://cdn.example/i.jpg"}),
        (MessageType.VIDEO, "mira", {"link": "https://cdn.example/i.jpg", "caption": "mira"}),
        (MessageType.AUDIO, "no caption for audio", {"link": "https://cdn.example/i.jpg"}),
    ],
    ids=["image", "document", "video", "audio"],
)
async def test_media_is_sent_by_link(
    graph: FakeGraph,
    sender: WhatsAppCloudChannelSender,
    type: MessageType,
    text: str | None,
    expected: dict[str, str],
) -> None:
    await sender.send(outbound(type, text=text, media_url="https://cdn.example/i.jpg"))

    sent = graph.requests[0].json()
    assert sent["type"] == type.value
    assert sent[type.value] == expected


async def test_a_voice_note_of_ours_is_uploaded_then_sent_by_its_media_id(
    graph: FakeGraph, sender: WhatsAppCloudChannelSender
) -> None:
    note = b"OggS\x00voice"

    external_id = await sender.send(
        outbound(
            MessageType.AUDIO,
            text="Abrimos a las nueve",
            media_url="https://talia.example/api/conversations/media/x.y",
            media_mime_type="audio/ogg",
            media_content=note,
        )
    )

    upload, send = graph.requests
    assert (upload.path, upload.headers["authorization"]) == (
        f"/{API_VERSION}/{PHONE_NUMBER_ID}/media",
        f"Bearer {TOKEN}",
    )
    [(media_id, stored)] = graph.uploaded.items()
    assert (stored.content, stored.mime_type) == (note, "audio/ogg")
    assert send.json()["type"] == "audio"
    assert send.json()["audio"] == {"id": media_id}
    assert external_id.startswith("wamid.")


async def test_an_upload_whatsapp_refuses_is_a_refusal_and_nothing_is_sent(
    graph: FakeGraph, sender: WhatsAppCloudChannelSender
) -> None:
    graph.answer_next(Reply(400, graph_error(131053, "Media upload error")))

    with pytest.raises(DeliveryRefused) as refused:
        await sender.send(
            outbound(MessageType.AUDIO, media_mime_type="audio/ogg", media_content=b"OggS")
        )

    assert refused.value.code == "131053"
    assert [r.path for r in graph.requests] == [f"/{API_VERSION}/{PHONE_NUMBER_ID}/media"]


async def test_a_location_is_sent_with_its_name_and_address(
    graph: FakeGraph, sender: WhatsAppCloudChannelSender
) -> None:
    place = Location(-12.0464, -77.0428, "Plaza Mayor", "Jr. de la Unión, Lima")

    await sender.send(outbound(MessageType.LOCATION, text=None, location=place))

    assert graph.requests[0].json()["location"] == {
        "latitude": -12.0464,
        "longitude": -77.0428,
        "name": "Plaza Mayor",
        "address": "Jr. de la Unión, Lima",
    }


@pytest.mark.parametrize(
    "message",
    [
        outbound(to=ChannelIdentity(IdentityKind.TWILIO_ADDRESS, "whatsapp:+51987654321")),
        outbound(text=None),
        outbound(MessageType.TEMPLATE, text=None),
        outbound(MessageType.IMAGE),
        outbound(MessageType.INTERACTIVE),
    ],
    ids=[
        "twilio-address",
        "text-without-text",
        "template-without-template",
        "image-no-url",
        "interactive",
    ],
)
async def test_what_whatsapp_cannot_take_is_refused_without_calling_it(
    graph: FakeGraph, sender: WhatsAppCloudChannelSender, message: Outbound
) -> None:
    with pytest.raises(DeliveryRefused) as refused:
        await sender.send(message)

    assert refused.value.channel == "whatsapp"
    assert refused.value.code is None
    assert graph.requests == []


@pytest.mark.parametrize(
    ("code", "message", "details"),
    [
        (
            131047,
            "Re-engagement message",
            "Message failed to send because more than 24 hours have passed since the customer "
            "last replied to this number.",
        ),
        (131026, "Message undeliverable", "Unable to deliver message."),
        (
            132001,
            "Template name does not exist in the translation",
            "template name (hola) does not exist in es_PE",
        ),
        (100, "Invalid parameter", None),
        (
            131062,
            "Business-scoped User ID (BSUID) recipients are not supported for this message",
            None,
        ),
    ],
    ids=["131047", "131026", "132001", "100", "131062"],
)
async def test_a_graph_error_about_the_message_is_a_refusal_with_metas_code(
    graph: FakeGraph,
    sender: WhatsAppCloudChannelSender,
    code: int,
    message: str,
    details: str | None,
) -> None:
    graph.answer_next(Reply(400, graph_error(code, message, details=details)))

    with pytest.raises(DeliveryRefused) as refused:
        await sender.send(outbound())

    assert refused.value.code == str(code)
    assert refused.value.title.startswith(message)
    assert not refused.value.title.startswith("(#")
    if details:
        assert refused.value.title.endswith(details)


@pytest.mark.parametrize(
    "reply",
    [
        Reply(500, graph_error(131000, "Something went wrong")),
        Reply(503, b"<html>Service Unavailable</html>"),
        Reply(400, graph_error(130429, "Rate limit hit")),
        Reply(400, graph_error(131056, "(Business Account, Consumer Account) pair rate limit hit")),
        Reply(400, graph_error(131048, "Spam rate limit hit")),
        Reply(400, graph_error(80007, "Rate limit issues")),
        Reply(403, graph_error(4, "Application request limit reached")),
        Reply(400, graph_error(131016, "Service unavailable")),
        Reply(401, graph_error(190, "Error validating access token: Session has expired")),
        Reply(403, graph_error(10, "Application does not have permission for this action")),
        Reply(403, graph_error(200, "Requires whatsapp_business_messaging permission")),
        Reply(400, graph_error(131042, "Business eligibility payment issue")),
        Reply(404, b"<html>not found</html>"),
        Reply(200, {"messaging_product": "whatsapp", "messages": []}),
        Reply(200, b"<html>ok</html>"),
    ],
    ids=[
        "500",
        "503",
        "130429",
        "131056",
        "131048",
        "80007",
        "4",
        "131016",
        "190-expired-token",
        "10-permission",
        "200-permission",
        "131042-payment",
        "404-html",
        "no-message-id",
        "html",
    ],
)
async def test_what_is_worth_retrying_leaves_whatsapp_unavailable(
    graph: FakeGraph, sender: WhatsAppCloudChannelSender, reply: Reply
) -> None:
    graph.answer_next(reply)

    with pytest.raises(ExternalServiceUnavailable) as unavailable:
        await sender.send(outbound())

    assert unavailable.value.service == "whatsapp"


async def test_a_token_the_graph_api_does_not_accept_is_not_the_messages_fault(
    graph: FakeGraph, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    sender = sender_at(client, graph.base_url, access_token="EAAGexpired")

    with pytest.raises(ExternalServiceUnavailable, match=r"190|access token"):
        await sender.send(outbound())

    assert graph.requests[0].headers["authorization"] == "Bearer EAAGexpired"
    assert any("190" in r.getMessage() and r.levelname == "ERROR" for r in caplog.records)
    assert "EAAGexpired" not in caplog.text


async def test_the_api_version_and_base_url_are_configurable(
    graph: FakeGraph, client: httpx.AsyncClient
) -> None:
    sender = WhatsAppCloudChannelSender(
        client,
        phone_number_id=PHONE_NUMBER_ID,
        access_token=TOKEN,
        base_url=graph.base_url + "/",
        api_version="v21.0",
    )
    graph.answer_next(Reply(200, {"messages": [{"id": "wamid.v21"}]}))

    assert await sender.send(outbound()) == "wamid.v21"
    assert graph.requests[0].path == f"/v21.0/{PHONE_NUMBER_ID}/messages"


@pytest.mark.parametrize(
    ("base_url", "api_version"),
    [("graph.facebook.com", "v25.0"), ("https://graph.facebook.com", "25.0")],
)
def test_a_wrong_base_url_or_api_version_is_refused_at_start(
    client: httpx.AsyncClient, base_url: str, api_version: str
) -> None:
    with pytest.raises(ValueError, match="Graph API"):
        WhatsAppCloudChannelSender(
            client,
            phone_number_id=PHONE_NUMBER_ID,
            access_token=TOKEN,
            base_url=base_url,
            api_version=api_version,
        )


async def test_handing_off_asks_nothing_of_whatsapp(
    graph: FakeGraph, sender: WhatsAppCloudChannelSender
) -> None:
    await sender.hand_off("any")

    assert graph.requests == []


# -------------------------------------------------------------------------------- media


@attrs.frozen
class GraphMediaHarness:
    graph: FakeGraph
    client: httpx.AsyncClient

    @property
    def downloader(self) -> WhatsAppCloudMediaDownloader:
        return self.limited_to(16 * 1024 * 1024)

    def limited_to(self, max_bytes: int) -> WhatsAppCloudMediaDownloader:
        return WhatsAppCloudMediaDownloader(
            self.client, access_token=TOKEN, base_url=self.graph.base_url, max_bytes=max_bytes
        )

    def serve(self, content: bytes, mime_type: str) -> str:
        self.graph.serve_media(MEDIA_ID, content, mime_type)
        return MEDIA_ID

    def missing(self) -> str:
        return "999999999999"


class WhatsAppCloudMediaDownloaderTests(RemoteMediaDownloaderContract):
    @pytest.fixture
    def media(self, graph: FakeGraph, client: httpx.AsyncClient) -> RemoteMediaHarness:
        return GraphMediaHarness(graph, client)


async def test_media_is_looked_up_then_fetched_both_times_with_the_bearer_token(
    graph: FakeGraph, downloader: WhatsAppCloudMediaDownloader
) -> None:
    graph.serve_media(MEDIA_ID, b"OggS-voice-note", "audio/ogg; codecs=opus")

    download = await downloader.download(MEDIA_ID)

    assert download == Download(b"OggS-voice-note", "audio/ogg; codecs=opus")
    lookup, fetch = graph.requests
    assert (lookup.method, lookup.path) == ("GET", f"/{API_VERSION}/{MEDIA_ID}")
    assert (fetch.method, fetch.path) == ("GET", ATTACHMENTS)
    assert f"mid={MEDIA_ID}" in fetch.query
    assert lookup.headers["authorization"] == fetch.headers["authorization"] == f"Bearer {TOKEN}"


async def test_a_base64_sha256_is_checked_too(
    graph: FakeGraph, downloader: WhatsAppCloudMediaDownloader
) -> None:
    content = b"\x89PNG-picture"
    digest = base64.b64encode(hashlib.sha256(content).digest()).decode()
    graph.serve_media(MEDIA_ID, content, "image/png", sha256=digest)

    assert (await downloader.download(MEDIA_ID)).content == content


@pytest.mark.parametrize(
    "sha256",
    [hashlib.sha256(b"other bytes").hexdigest(), base64.b64encode(b"\x00" * 32).decode()],
    ids=["hex", "base64"],
)
async def test_media_that_arrives_damaged_is_unavailable_so_it_is_fetched_again(
    graph: FakeGraph, downloader: WhatsAppCloudMediaDownloader, sha256: str
) -> None:
    graph.serve_media(MEDIA_ID, b"\x89PNG-picture", "image/png", sha256=sha256)

    with pytest.raises(ExternalServiceUnavailable, match="sha256"):
        await downloader.download(MEDIA_ID)


async def test_media_announced_over_the_limit_is_refused_before_fetching_it(
    graph: FakeGraph, client: httpx.AsyncClient
) -> None:
    graph.serve_media(MEDIA_ID, b"x" * 10, "video/mp4", file_size=20 * 1024 * 1024)
    downloader = WhatsAppCloudMediaDownloader(client, access_token=TOKEN, base_url=graph.base_url)

    with pytest.raises(Malformed, match="bytes"):
        await downloader.download(MEDIA_ID)

    assert len(graph.requests) == 1


async def test_media_bigger_than_announced_is_refused_once_over_the_limit(
    graph: FakeGraph, client: httpx.AsyncClient
) -> None:
    graph.serve_media(MEDIA_ID, b"x" * 2048, "application/pdf", file_size=10)
    downloader = WhatsAppCloudMediaDownloader(
        client, access_token=TOKEN, base_url=graph.base_url, max_bytes=1024
    )

    with pytest.raises(Malformed, match="over 1024 bytes"):
        await downloader.download(MEDIA_ID)


async def test_an_expired_media_url_is_unavailable_so_a_retry_asks_for_a_fresh_one(
    graph: FakeGraph, downloader: WhatsAppCloudMediaDownloader
) -> None:
    graph.serve_media(MEDIA_ID, b"bytes", "image/jpeg")
    graph.answer_next(
        Reply(200, {"url": f"{graph.base_url}{ATTACHMENTS}?mid=gone", "id": MEDIA_ID})
    )

    with pytest.raises(ExternalServiceUnavailable, match="HTTP 404"):
        await downloader.download(MEDIA_ID)


@pytest.mark.parametrize(
    "reply",
    [
        Reply(500, graph_error(1, "An unknown error occurred")),
        Reply(401, graph_error(190, "Error validating access token")),
        Reply(200, {"id": MEDIA_ID, "mime_type": "image/jpeg"}),
        Reply(200, b"<html></html>"),
    ],
    ids=["500", "190", "no-url", "html"],
)
async def test_a_media_lookup_that_fails_leaves_whatsapp_unavailable(
    graph: FakeGraph, downloader: WhatsAppCloudMediaDownloader, reply: Reply
) -> None:
    graph.answer_next(reply)

    with pytest.raises(ExternalServiceUnavailable):
        await downloader.download(MEDIA_ID)


@pytest.mark.parametrize("reference", ["../me", "", "123/messages", "a b"])
async def test_a_reference_that_is_not_a_media_id_is_never_requested(
    graph: FakeGraph, downloader: WhatsAppCloudMediaDownloader, reference: str
) -> None:
    with pytest.raises(Malformed):
        await downloader.download(reference)

    assert graph.requests == []
