"""The Twilio sender and media downloader against local servers speaking Twilio's wire format.

``FakeTwilio`` (127.0.0.1) is the REST API; ``FakeMediaHost`` (127.0.0.2, another host) is
the CDN its media URLs redirect to. See ``twilio_server.py``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import attrs
import httpx
import pytest

from adapters.channels.twilio.media import TwilioMediaDownloader
from adapters.channels.twilio.sender import TwilioChannelSender
from talia_core.conversations.errors import DeliveryRefused
from talia_core.conversations.events import Location
from talia_core.conversations.messages import Template
from talia_core.conversations.ports import Outbound
from talia_core.conversations.vocabulary import Channel, ChannelIdentity, IdentityKind, MessageType
from talia_core.shared.errors import ExternalServiceUnavailable, Malformed, NotFound
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
from tests.integration.channels.twilio_server import (
    FakeMediaHost,
    FakeTwilio,
    basic_auth,
    twilio_error,
)

ACCOUNT_SID = "AC0123456789abcdef0123456789abcdef"
AUTH_TOKEN = "f" * 32
FROM = "whatsapp:+14155238886"
ANA = "whatsapp:+51987654321"
ANA_ON_TWILIO = ChannelIdentity(IdentityKind.TWILIO_ADDRESS, ANA)
CALLBACK = "https://talia.example.com/api/twilio/status"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 4 + b"\xff\xd9"


@pytest.fixture
async def cdn() -> AsyncIterator[FakeMediaHost]:
    server = FakeMediaHost("127.0.0.2")
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def twilio(cdn: FakeMediaHost) -> AsyncIterator[FakeTwilio]:
    server = FakeTwilio(ACCOUNT_SID, AUTH_TOKEN, cdn=cdn)
    await server.start()
    yield server
    await server.close()


def sender_at(
    client: httpx.AsyncClient,
    base_url: str,
    *,
    account_sid: str = ACCOUNT_SID,
    auth_token: str = AUTH_TOKEN,
    from_address: str = FROM,
    status_callback_url: str | None = CALLBACK,
) -> TwilioChannelSender:
    return TwilioChannelSender(
        client,
        account_sid=account_sid,
        auth_token=auth_token,
        from_address=from_address,
        status_callback_url=status_callback_url,
        base_url=base_url,
    )


@pytest.fixture
def sender(client: httpx.AsyncClient, twilio: FakeTwilio) -> TwilioChannelSender:
    return sender_at(client, twilio.base_url)


def outbound(
    text: str | None = "Hola Ana",
    *,
    to: ChannelIdentity = ANA_ON_TWILIO,
    **fields: Any,
) -> Outbound:
    message = Outbound(
        message_id="msg-1", channel=Channel.TWILIO, to=to, type=MessageType.TEXT, text=text
    )
    return attrs.evolve(message, **fields)


# ------------------------------------------------------------------------ the contract


@attrs.frozen
class TwilioHarness:
    twilio: FakeTwilio
    sender: TwilioChannelSender
    channel: Channel = Channel.TWILIO
    recipient: ChannelIdentity = ANA_ON_TWILIO
    thread: str | None = None
    address: str = ANA

    @property
    def base_url(self) -> str:
        return self.twilio.base_url

    def sender_with(self, client: httpx.AsyncClient, base_url: str) -> TwilioChannelSender:
        return sender_at(client, base_url)

    def refuse_next(self) -> str:
        self.twilio.answer_next(
            Reply(400, twilio_error(21610, "Attempt to send to unsubscribed recipient"))
        )
        return "21610"

    def go_down(self, status: int) -> None:
        self.twilio.answer_next(Reply(status, b"<html><body>Twilio is down</body></html>"))

    def go_silent(self) -> None:
        self.twilio.answer_next(Reply(stall=True))

    def go_busy(self, status: int, retry_after: int) -> None:
        busy = twilio_error(20429, "Too Many Requests", status)
        self.twilio.answer_next(Reply(status, busy, {"Retry-After": str(retry_after)}))

    def requests(self) -> int:
        return len(self.twilio.requests)

    def received(self) -> list[Received]:
        return [Received(form["To"], form.get("Body")) for form in self.twilio.created]


class TwilioChannelSenderTests(RemoteChannelSenderContract):
    @pytest.fixture
    def harness(self, twilio: FakeTwilio, sender: TwilioChannelSender) -> RemoteSenderHarness:
        return TwilioHarness(twilio, sender)

    @pytest.fixture(params=["account_sid", "auth_token", "from_address"])
    def unconfigured(
        self, request: pytest.FixtureRequest, client: httpx.AsyncClient, twilio: FakeTwilio
    ) -> TwilioChannelSender:
        return sender_at(client, twilio.base_url, **{request.param: ""})


# --------------------------------------------------------------------------- sending


async def test_a_text_is_a_form_post_to_the_accounts_messages_with_basic_auth(
    twilio: FakeTwilio, sender: TwilioChannelSender
) -> None:
    sid = await sender.send(outbound("Hola Ana, ¿en qué te ayudo? 100% & más"))

    [request] = twilio.requests
    assert (request.method, request.path) == (
        "POST",
        f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json",
    )
    assert request.headers["authorization"] == basic_auth(ACCOUNT_SID, AUTH_TOKEN)
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.form_pairs() == [
        ("To", ANA),
        ("From", FROM),
        ("Body", "Hola Ana, ¿en qué te ayudo? 100% & más"),
        ("StatusCallback", CALLBACK),
    ]
    assert sid.startswith("SM")
    assert len(sid) == 34


async def test_without_a_status_callback_none_is_asked_for(
    twilio: FakeTwilio, client: httpx.AsyncClient
) -> None:
    sender = sender_at(client, twilio.base_url + "/", status_callback_url=None)

    await sender.send(outbound())

    assert "StatusCallback" not in twilio.requests[0].form()
    assert twilio.requests[0].path == twilio.messages_path


async def test_a_template_goes_by_content_sid_with_numbered_variables(
    twilio: FakeTwilio, sender: TwilioChannelSender
) -> None:
    template = Template("HXb5b62575e6e4ff6129ad7c8efe1f983e", "es", ("Ana", "15 de marzo"))

    await sender.send(outbound(None, type=MessageType.TEMPLATE, template=template))

    form = twilio.requests[0].form()
    assert set(form) == {"To", "From", "ContentSid", "ContentVariables", "StatusCallback"}
    assert form["ContentSid"] == "HXb5b62575e6e4ff6129ad7c8efe1f983e"
    assert json.loads(form["ContentVariables"]) == {"1": "Ana", "2": "15 de marzo"}


async def test_a_template_without_parameters_sends_no_variables(
    twilio: FakeTwilio, sender: TwilioChannelSender
) -> None:
    template = Template("HX0123456789abcdef0123456789abcdef", "es")

    await sender.send(outbound(None, type=MessageType.TEMPLATE, template=template))

    form = twilio.requests[0].form()
    assert form["ContentSid"] == "HX0123456789abcdef0123456789abcdef"
    assert "ContentVariables" not in form
    assert "Body" not in form


async def test_media_goes_as_a_media_url_with_its_caption(
    twilio: FakeTwilio, sender: TwilioChannelSender
) -> None:
    sid = await sender.send(
        outbound(
            "Tu invitación",
            type=MessageType.IMAGE,
            media_url="https://talia.example.com/files/invitation.jpg",
            media_mime_type="image/jpeg",
        )
    )

    form = twilio.requests[0].form()
    assert form["MediaUrl"] == "https://talia.example.com/files/invitation.jpg"
    assert form["Body"] == "Tu invitación"
    assert sid.startswith("MM")


async def test_a_voice_note_goes_as_its_public_link_alone(
    twilio: FakeTwilio, sender: TwilioChannelSender
) -> None:
    link = "https://talia.example.com/api/conversations/media/dm9pY2U.0a1b"

    await sender.send(
        outbound(
            "Abrimos a las nueve",
            type=MessageType.AUDIO,
            media_url=link,
            media_mime_type="audio/ogg",
            media_content=b"OggS",
        )
    )

    form = twilio.requests[0].form()
    assert form["MediaUrl"] == link
    assert "Body" not in form


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (21211, "Invalid 'To' Phone Number: whatsapp:+5198"),
        (
            63016,
            "Failed to send freeform message because you are outside the allowed window. "
            "If you are using WhatsApp, please use a Message Template.",
        ),
        (21610, "Attempt to send to unsubscribed recipient"),
    ],
)
async def test_a_refusal_names_twilios_code_and_message(
    twilio: FakeTwilio, sender: TwilioChannelSender, code: int, message: str
) -> None:
    twilio.answer_next(Reply(400, twilio_error(code, message)))

    with pytest.raises(DeliveryRefused) as refused:
        await sender.send(outbound())

    assert (refused.value.channel, refused.value.code, refused.value.title) == (
        "twilio",
        str(code),
        message,
    )
    assert len(twilio.requests) == 1


async def test_an_address_twilio_cannot_read_is_refused_by_twilio(
    twilio: FakeTwilio, sender: TwilioChannelSender
) -> None:
    bad = ChannelIdentity(IdentityKind.TWILIO_ADDRESS, "whatsapp:51987654321")

    with pytest.raises(DeliveryRefused) as refused:
        await sender.send(outbound(to=bad))

    assert refused.value.code == "21211"
    assert twilio.requests[0].form()["To"] == "whatsapp:51987654321"
    assert twilio.created == []


@pytest.mark.parametrize(
    "message",
    [
        outbound(to=ChannelIdentity(IdentityKind.WA_ID, "51987654321")),
        outbound(None, type=MessageType.LOCATION, location=Location(-12.05, -77.04)),
        outbound(""),
    ],
    ids=["wa-id", "location", "empty-text"],
)
async def test_what_twilio_cannot_take_is_refused_without_calling_it(
    twilio: FakeTwilio, sender: TwilioChannelSender, message: Outbound
) -> None:
    with pytest.raises(DeliveryRefused) as refused:
        await sender.send(message)

    assert refused.value.channel == "twilio"
    assert twilio.requests == []


async def test_wrong_credentials_leave_twilio_unavailable_not_the_message_refused(
    twilio: FakeTwilio, client: httpx.AsyncClient
) -> None:
    sender = sender_at(client, twilio.base_url, auth_token="0" * 32)

    with pytest.raises(ExternalServiceUnavailable, match="account") as unavailable:
        await sender.send(outbound())

    assert twilio.requests[0].headers["authorization"] == basic_auth(ACCOUNT_SID, "0" * 32)
    assert unavailable.value.retry_after_seconds is None


async def test_an_account_twilio_does_not_know_leaves_it_unavailable(
    twilio: FakeTwilio, client: httpx.AsyncClient
) -> None:
    twilio.answer_next(Reply(404, twilio_error(20404, "The requested resource was not found", 404)))

    with pytest.raises(ExternalServiceUnavailable, match="account"):
        await sender_at(client, twilio.base_url).send(outbound())


async def test_a_forbidden_account_leaves_it_unavailable(
    twilio: FakeTwilio, sender: TwilioChannelSender
) -> None:
    twilio.answer_next(Reply(403, twilio_error(20003, "Permission Denied", 403)))

    with pytest.raises(ExternalServiceUnavailable):
        await sender.send(outbound())


async def test_a_retry_after_date_is_counted_in_seconds(
    twilio: FakeTwilio, sender: TwilioChannelSender
) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    twilio.answer_next(Reply(503, b"", {"Retry-After": when}))

    with pytest.raises(ExternalServiceUnavailable) as unavailable:
        await sender.send(outbound())

    assert unavailable.value.retry_after_seconds is not None
    assert 100 <= unavailable.value.retry_after_seconds <= 121


@pytest.mark.parametrize(
    "reply",
    [
        Reply(500, b"<html>Internal Server Error</html>"),
        Reply(502, b""),
        Reply(201, {"status": "queued"}),
        Reply(201, b"<html>not json</html>"),
        Reply(400, b"<html>Bad Request</html>"),
        Reply(302, b"", {"Location": "https://www.twilio.com/login"}),
    ],
    ids=["500", "502", "no-sid", "html-201", "html-400", "redirect"],
)
async def test_an_answer_that_is_not_twilios_leaves_it_unavailable(
    twilio: FakeTwilio, sender: TwilioChannelSender, reply: Reply
) -> None:
    twilio.answer_next(reply)

    with pytest.raises(ExternalServiceUnavailable):
        await sender.send(outbound())

    assert len(twilio.requests) == 1


async def test_handing_off_calls_nobody(twilio: FakeTwilio, sender: TwilioChannelSender) -> None:
    await sender.hand_off("any-thread")

    assert twilio.requests == []


def test_an_api_url_without_a_scheme_is_refused_at_start(client: httpx.AsyncClient) -> None:
    with pytest.raises(ValueError, match="https://"):
        sender_at(client, "api.twilio.com")


# ----------------------------------------------------------------------------- media


def downloader_for(
    client: httpx.AsyncClient,
    *,
    auth_token: str = AUTH_TOKEN,
    max_bytes: int = len(JPEG) * 16,
    loopback_http: bool = True,
) -> TwilioMediaDownloader:
    """A downloader that trusts the local Twilio (127.0.0.1) and not the CDN (127.0.0.2)."""
    return TwilioMediaDownloader(
        client,
        account_sid=ACCOUNT_SID,
        auth_token=auth_token,
        allowed_hosts=("127.0.0.1",),
        max_bytes=max_bytes,
        loopback_http=loopback_http,
    )


@pytest.fixture
def downloader(client: httpx.AsyncClient) -> TwilioMediaDownloader:
    return downloader_for(client)


@attrs.frozen
class TwilioMediaHarness:
    twilio: FakeTwilio
    client: httpx.AsyncClient

    @property
    def downloader(self) -> TwilioMediaDownloader:
        return downloader_for(self.client)

    def limited_to(self, max_bytes: int) -> TwilioMediaDownloader:
        return downloader_for(self.client, max_bytes=max_bytes)

    def serve(self, content: bytes, mime_type: str) -> str:
        return self.twilio.add_media(content, mime_type)

    def missing(self) -> str:
        return f"{self.twilio.base_url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/MM1/Media/ME1"


class TwilioMediaDownloaderTests(RemoteMediaDownloaderContract):
    @pytest.fixture
    def media(self, twilio: FakeTwilio, client: httpx.AsyncClient) -> RemoteMediaHarness:
        return TwilioMediaHarness(twilio, client)


async def test_media_is_fetched_with_credentials_from_twilio_and_without_from_its_cdn(
    twilio: FakeTwilio, cdn: FakeMediaHost, downloader: TwilioMediaDownloader
) -> None:
    media_url = twilio.add_media(JPEG, "image/jpeg")

    download = await downloader.download(media_url)

    assert download == Download(JPEG, "image/jpeg")
    [asked] = twilio.requests
    assert asked.path == media_url.removeprefix(twilio.base_url)
    assert asked.headers["authorization"] == basic_auth(ACCOUNT_SID, AUTH_TOKEN)
    [fetched] = cdn.requests
    assert fetched.path == f"/{ACCOUNT_SID}/" + media_url.rsplit("/", 1)[1]
    assert fetched.headers["host"] == cdn.base_url.removeprefix("http://")
    assert "authorization" not in fetched.headers


async def test_credentials_go_on_the_first_request_only_even_back_to_twilio(
    twilio: FakeTwilio, cdn: FakeMediaHost, downloader: TwilioMediaDownloader
) -> None:
    media_url = twilio.add_media(JPEG, "image/jpeg")
    back_to_twilio = twilio.add_media(JPEG, "image/jpeg")
    cdn.moved[f"/{ACCOUNT_SID}/" + media_url.rsplit("/", 1)[1]] = back_to_twilio

    with pytest.raises(ExternalServiceUnavailable):
        await downloader.download(media_url)

    assert [r.headers.get("authorization") for r in twilio.requests] == [
        basic_auth(ACCOUNT_SID, AUTH_TOKEN),
        None,
    ]


async def test_a_media_url_off_twilios_hosts_is_refused_and_never_sees_the_credentials(
    cdn: FakeMediaHost, downloader: TwilioMediaDownloader
) -> None:
    elsewhere = cdn.put("/harvest", b"", "text/plain")

    with pytest.raises(Malformed, match="not on a Twilio host"):
        await downloader.download(elsewhere)

    assert cdn.requests == []


async def test_plain_http_is_refused_unless_loopback_http_is_allowed(
    twilio: FakeTwilio, client: httpx.AsyncClient
) -> None:
    strict = downloader_for(client, loopback_http=False)
    media_url = twilio.add_media(JPEG, "image/jpeg")

    with pytest.raises(Malformed, match="https"):
        await strict.download(media_url)

    assert twilio.requests == []


@pytest.mark.parametrize(
    "reference",
    [
        "http://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1",
        "https://api.twilio.com.evil.example/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1",
        "https://evil.example/api.twilio.com/Media/ME1",
        "https://eu.api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1",
        "https://user:pass@api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1",
        "https://api.twilio.com@evil.example/Media/ME1",
        "http://127.0.0.1/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1",
        "ftp://api.twilio.com/Media/ME1",
        "ME0123456789abcdef0123456789abcdef",
        "https://[::1",
    ],
    ids=[
        "http",
        "suffix-trick",
        "path-trick",
        "subdomain-of-exact-entry",
        "userinfo",
        "userinfo-trick",
        "loopback-in-production",
        "ftp",
        "media-id",
        "garbled",
    ],
)
async def test_production_takes_https_urls_on_api_twilio_com_only(
    client: httpx.AsyncClient, reference: str
) -> None:
    production = TwilioMediaDownloader(client, account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN)

    with pytest.raises(Malformed):
        await production.download(reference)


class Recorder:
    """A transport that answers every request and keeps it, for hosts no local server has."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(200, content=b"OggS", headers={"Content-Type": "audio/ogg"})


@pytest.mark.parametrize(
    ("reference", "allowed"),
    [
        ("https://media.us1.twilio.com/v1/Media/ME1", True),
        ("https://twilio.com/v1/Media/ME1", False),
        ("https://eviltwilio.com/v1/Media/ME1", False),
        ("https://twilio.com.evil.example/v1/Media/ME1", False),
    ],
)
async def test_an_entry_starting_with_a_dot_allows_the_hosts_below_it(
    reference: str, allowed: bool
) -> None:
    recorder = Recorder()
    async with httpx.AsyncClient(transport=httpx.MockTransport(recorder)) as client:
        downloader = TwilioMediaDownloader(
            client, account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, allowed_hosts=(".twilio.com",)
        )
        if allowed:
            assert await downloader.download(reference) == Download(b"OggS", "audio/ogg")
            [request] = recorder.requests
            assert request.headers["authorization"] == basic_auth(ACCOUNT_SID, AUTH_TOKEN)
        else:
            with pytest.raises(Malformed):
                await downloader.download(reference)
            assert recorder.requests == []


async def test_media_gone_from_the_cdn_is_not_found(
    twilio: FakeTwilio, cdn: FakeMediaHost, downloader: TwilioMediaDownloader
) -> None:
    media_url = twilio.add_media(JPEG, "image/jpeg")
    cdn.files.clear()

    with pytest.raises(NotFound):
        await downloader.download(media_url)


async def test_wrong_credentials_leave_twilio_media_unavailable(
    twilio: FakeTwilio, cdn: FakeMediaHost, client: httpx.AsyncClient
) -> None:
    media_url = twilio.add_media(JPEG, "image/jpeg")

    with pytest.raises(ExternalServiceUnavailable):
        await downloader_for(client, auth_token="0" * 32).download(media_url)

    assert cdn.requests == []


async def test_a_busy_cdn_says_when_to_come_back(
    twilio: FakeTwilio, cdn: FakeMediaHost, downloader: TwilioMediaDownloader
) -> None:
    media_url = twilio.add_media(JPEG, "image/jpeg")
    cdn.answer_next(Reply(503, b"<Error><Code>SlowDown</Code></Error>", {"Retry-After": "3"}))

    with pytest.raises(ExternalServiceUnavailable) as unavailable:
        await downloader.download(media_url)

    assert unavailable.value.retry_after_seconds == 3


async def test_a_redirect_loop_ends_unavailable(
    twilio: FakeTwilio, cdn: FakeMediaHost, downloader: TwilioMediaDownloader
) -> None:
    media_url = twilio.add_media(JPEG, "image/jpeg")
    path = f"/{ACCOUNT_SID}/" + media_url.rsplit("/", 1)[1]
    cdn.moved[path] = cdn.base_url + path

    with pytest.raises(ExternalServiceUnavailable, match="too many"):
        await downloader.download(media_url)

    assert len(cdn.requests) == 5


async def test_a_redirect_to_plain_http_off_loopback_is_refused(
    twilio: FakeTwilio, downloader: TwilioMediaDownloader
) -> None:
    media_url = twilio.add_media(JPEG, "image/jpeg")
    twilio.media[media_url.removeprefix(twilio.base_url)] = "http://cdn.example/ME1"

    with pytest.raises(Malformed, match="https"):
        await downloader.download(media_url)


async def test_a_redirect_without_a_location_is_unavailable(
    twilio: FakeTwilio, downloader: TwilioMediaDownloader
) -> None:
    media_url = twilio.add_media(JPEG, "image/jpeg")
    twilio.answer_next(Reply(307, b""))

    with pytest.raises(ExternalServiceUnavailable, match="Location"):
        await downloader.download(media_url)


async def test_media_without_a_content_type_is_an_octet_stream(
    twilio: FakeTwilio, downloader: TwilioMediaDownloader
) -> None:
    media_url = twilio.add_media(b"%PDF-1.7", None)

    assert await downloader.download(media_url) == Download(b"%PDF-1.7", "application/octet-stream")


async def test_media_of_exactly_the_limit_is_taken(
    twilio: FakeTwilio, client: httpx.AsyncClient
) -> None:
    media_url = twilio.add_media(JPEG, "image/jpeg")

    download = await downloader_for(client, max_bytes=len(JPEG)).download(media_url)

    assert download.content == JPEG


@pytest.mark.parametrize("declared", [True, False], ids=["declared", "streamed"])
async def test_media_over_the_limit_is_refused(
    twilio: FakeTwilio, cdn: FakeMediaHost, client: httpx.AsyncClient, declared: bool
) -> None:
    media_url = twilio.add_media(JPEG, "image/jpeg")
    cdn.answer_next(Reply(200, JPEG * 64, {"Content-Type": "image/jpeg"}, declare_length=declared))

    with pytest.raises(Malformed, match="over"):
        await downloader_for(client, max_bytes=len(JPEG)).download(media_url)


async def test_a_silent_cdn_times_out_as_unavailable(
    twilio: FakeTwilio, cdn: FakeMediaHost
) -> None:
    media_url = twilio.add_media(JPEG, "image/jpeg")
    cdn.answer_next(Reply(stall=True))
    async with httpx.AsyncClient(timeout=0.2) as impatient:
        with pytest.raises(ExternalServiceUnavailable, match="timed out"):
            await downloader_for(impatient).download(media_url)


async def test_an_unreachable_twilio_leaves_media_unavailable(client: httpx.AsyncClient) -> None:
    with refusing_port() as port:
        reference = f"http://127.0.0.1:{port}/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1"

        with pytest.raises(ExternalServiceUnavailable, match="ConnectError"):
            await downloader_for(client).download(reference)


async def test_an_unconfigured_downloader_is_unavailable_without_calling_twilio(
    twilio: FakeTwilio, client: httpx.AsyncClient
) -> None:
    media_url = twilio.add_media(JPEG, "image/jpeg")

    with pytest.raises(ExternalServiceUnavailable, match="not configured"):
        await downloader_for(client, auth_token="").download(media_url)

    assert twilio.requests == []


def test_a_limit_that_is_not_positive_is_refused_at_start(client: httpx.AsyncClient) -> None:
    with pytest.raises(ValueError, match="max_bytes"):
        downloader_for(client, max_bytes=0)


async def test_httpx_would_also_drop_credentials_on_a_cross_origin_redirect(
    twilio: FakeTwilio, cdn: FakeMediaHost, client: httpx.AsyncClient
) -> None:
    """Why following redirects by hand is belt and braces: httpx itself strips
    Authorization when a redirect leaves the origin (httpx 0.28 ``_redirect_headers``)."""
    media_url = twilio.add_media(JPEG, "image/jpeg")
    auth = httpx.BasicAuth(ACCOUNT_SID, AUTH_TOKEN)

    response = await client.get(media_url, auth=auth, follow_redirects=True)

    assert response.content == JPEG
    assert "authorization" in twilio.requests[0].headers
    assert "authorization" not in cdn.requests[0].headers
    assert base64.b64decode(twilio.requests[0].headers["authorization"][6:]) == (
        f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()
    )
