"""Twilio's WhatsApp webhooks read into channel events: incoming messages and status callbacks.

The forms are shaped as Twilio's "request to your incoming message webhook URL" and
"status callback" documentation shows them, sent form-encoded and read back by ``parse_form``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest

from adapters.channels.twilio.webhook import parse_form, parse_message, parse_status
from talia_core.conversations.events import InboundMessage, Location, MediaRef, Sender, StatusUpdate
from talia_core.conversations.vocabulary import (
    Channel,
    ChannelIdentity,
    DeliveryStatus,
    IdentityKind,
    MessageType,
)
from talia_core.shared.errors import Malformed

NOW = datetime(2026, 3, 14, 15, 9, 26, tzinfo=UTC)
SID = "SM1f0e8ba3c2d54e7f9a6b1c0d2e3f4a5b"
ACCOUNT = "AC00000000000000000000000000000000"
MEDIA_URL = (
    f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Messages/"
    "MM0123456789abcdef0123456789abcdef/Media/ME0123456789abcdef0123456789abcdef"
)
ANA = Sender(
    identities=(ChannelIdentity(IdentityKind.TWILIO_ADDRESS, "whatsapp:+51987654321"),),
    name="Ana",
    phone="51987654321",
)


def inbound(**fields: str) -> list[tuple[str, str]]:
    """An incoming WhatsApp message as Twilio posts it, through the form parser."""
    base = {
        "SmsMessageSid": SID,
        "NumMedia": "0",
        "ProfileName": "Ana",
        "MessageType": "text",
        "SmsSid": SID,
        "WaId": "51987654321",
        "SmsStatus": "received",
        "Body": "Hola",
        "To": "whatsapp:+14155238886",
        "NumSegments": "1",
        "ReferralNumMedia": "0",
        "MessageSid": SID,
        "AccountSid": ACCOUNT,
        "From": "whatsapp:+51987654321",
        "ApiVersion": "2010-04-01",
    }
    return parse_form(urlencode(base | fields).encode())


def status(message_status: str, **fields: str) -> list[tuple[str, str]]:
    base = {
        "ChannelPrefix": "whatsapp",
        "ApiVersion": "2010-04-01",
        "MessageStatus": message_status,
        "SmsSid": SID,
        "SmsStatus": message_status,
        "ChannelInstallSid": "XE00000000000000000000000000000000",
        "To": "whatsapp:+51987654321",
        "From": "whatsapp:+14155238886",
        "MessageSid": SID,
        "AccountSid": ACCOUNT,
        "ChannelToAddress": "+5198765XXXX",
    }
    return parse_form(urlencode(base | fields).encode())


def without(params: list[tuple[str, str]], name: str) -> list[tuple[str, str]]:
    return [(k, v) for k, v in params if k != name]


# ------------------------------------------------------------------------------- the form


def test_a_form_is_decoded_with_blanks_repeats_and_order_kept() -> None:
    body = b"Body=Hola+%C2%BFqu%C3%A9+tal%3F&NumMedia=0&Label=&MediaUrl=a&MediaUrl=b"

    assert parse_form(body) == [
        ("Body", "Hola ¿qué tal?"),
        ("NumMedia", "0"),
        ("Label", ""),
        ("MediaUrl", "a"),
        ("MediaUrl", "b"),
    ]


def test_an_empty_form_has_no_fields() -> None:
    assert parse_form(b"") == []


@pytest.mark.parametrize(
    "body",
    [b"Body", b"Body=%FF", b"\xff=1", b"a=1&&b=2", b"a=1&", b'{"MessageSid": "SM1"}'],
    ids=["no-equals", "bad-percent-utf8", "bad-raw-utf8", "empty-field", "trailing-amp", "json"],
)
def test_a_body_that_is_not_a_clean_form_is_malformed(body: bytes) -> None:
    with pytest.raises(Malformed):
        parse_form(body)


def test_a_form_with_too_many_fields_is_malformed() -> None:
    with pytest.raises(Malformed):
        parse_form(b"&".join(b"f%d=1" % i for i in range(1001)))


# ---------------------------------------------------------------------- incoming messages


def test_a_text_message_names_its_sender_by_twilio_address() -> None:
    message = parse_message(inbound(Body="¿Tienen invitaciones?"), received_at=NOW)

    assert message == InboundMessage(
        channel=Channel.TWILIO,
        external_id=SID,
        sender=ANA,
        type=MessageType.TEXT,
        sent_at=NOW,
        text="¿Tienen invitaciones?",
        raw_type="text",
    )
    assert message.sender.identities[0].channel is Channel.TWILIO


def test_twilio_sends_no_time_so_the_message_is_dated_when_received() -> None:
    later = datetime(2026, 3, 15, 8, 0, tzinfo=UTC)

    assert parse_message(inbound(), received_at=later).sent_at == later


def test_a_sender_without_profile_name_or_wa_id_is_known_by_address_alone() -> None:
    params = without(without(inbound(), "ProfileName"), "WaId")

    sender = parse_message(params, received_at=NOW).sender

    assert sender == Sender(identities=ANA.identities, name=None, phone=None)


def test_a_message_without_message_type_is_text_when_it_has_a_body() -> None:
    message = parse_message(without(inbound(), "MessageType"), received_at=NOW)

    assert (message.type, message.text, message.raw_type) == (MessageType.TEXT, "Hola", None)


@pytest.mark.parametrize(
    ("message_type", "content_type", "expected"),
    [
        ("image", "image/jpeg", MessageType.IMAGE),
        ("audio", "audio/ogg", MessageType.AUDIO),
        ("video", "video/mp4", MessageType.VIDEO),
        ("document", "application/pdf", MessageType.DOCUMENT),
        ("sticker", "image/webp", MessageType.IMAGE),
    ],
)
def test_an_attachment_is_typed_by_its_content_type(
    message_type: str, content_type: str, expected: MessageType
) -> None:
    params = inbound(
        MessageType=message_type,
        NumMedia="1",
        MediaContentType0=content_type,
        MediaUrl0=MEDIA_URL,
        Body="",
    )

    message = parse_message(params, received_at=NOW)

    assert message.type is expected
    assert message.media == MediaRef(reference=MEDIA_URL, mime_type=content_type)
    assert (message.text, message.raw_type) == (None, message_type)


def test_an_image_keeps_its_caption_as_text() -> None:
    params = inbound(
        MessageType="image",
        NumMedia="1",
        MediaContentType0="image/jpeg",
        MediaUrl0=MEDIA_URL,
        Body="Así quiero la invitación",
    )

    message = parse_message(params, received_at=NOW)

    assert (message.type, message.text) == (MessageType.IMAGE, "Así quiero la invitación")


def test_only_the_first_attachment_is_read() -> None:
    params = inbound(
        MessageType="image",
        NumMedia="2",
        MediaContentType0="image/png",
        MediaUrl0=MEDIA_URL,
        MediaContentType1="image/jpeg",
        MediaUrl1=MEDIA_URL + "2",
    )

    assert parse_message(params, received_at=NOW).media == MediaRef(MEDIA_URL, "image/png")


def test_a_shared_location_carries_its_coordinates_label_and_address() -> None:
    params = inbound(
        MessageType="location",
        Body="",
        Latitude="-12.046374",
        Longitude="-77.042793",
        Label="Plaza Mayor",
        Address="Jr. de la Unión, Lima",
    )

    message = parse_message(params, received_at=NOW)

    assert message.type is MessageType.LOCATION
    assert message.location == Location(
        latitude=-12.046374,
        longitude=-77.042793,
        name="Plaza Mayor",
        address="Jr. de la Unión, Lima",
    )


def test_a_pin_without_label_or_address_is_a_bare_location() -> None:
    params = inbound(MessageType="location", Latitude="0", Longitude="0")

    assert parse_message(params, received_at=NOW).location == Location(0.0, 0.0)


def test_a_quick_reply_is_interactive_with_the_button_text() -> None:
    params = inbound(
        MessageType="button",
        Body="Sí, quiero",
        ButtonText="Sí, quiero",
        ButtonPayload="confirm-order-42",
    )

    message = parse_message(params, received_at=NOW)

    assert (message.type, message.text, message.raw_type) == (
        MessageType.INTERACTIVE,
        "Sí, quiero",
        "button",
    )


def test_a_button_reply_with_only_a_payload_shows_the_payload() -> None:
    params = without(inbound(ButtonPayload="confirm-order-42", Body=""), "MessageType")

    message = parse_message(params, received_at=NOW)

    assert (message.type, message.text) == (MessageType.INTERACTIVE, "confirm-order-42")


def test_a_list_reply_is_interactive_with_the_chosen_item() -> None:
    message = parse_message(inbound(MessageType="interactive", Body="Plan Oro"), received_at=NOW)

    assert (message.type, message.text) == (MessageType.INTERACTIVE, "Plan Oro")


@pytest.mark.parametrize("message_type", ["contacts", "reaction", "unknown", "image"])
def test_what_cannot_be_read_is_kept_as_unsupported_with_its_type(message_type: str) -> None:
    message = parse_message(inbound(MessageType=message_type, Body=""), received_at=NOW)

    assert message.type is MessageType.UNSUPPORTED
    assert (message.raw_type, message.text, message.media) == (message_type, None, None)


def test_a_message_converts_to_inbox_data_and_back() -> None:
    params = inbound(
        MessageType="image", NumMedia="1", MediaContentType0="image/jpeg", MediaUrl0=MEDIA_URL
    )
    message = parse_message(params, received_at=NOW)

    assert InboundMessage.from_data(message.to_data()) == message


@pytest.mark.parametrize("missing", ["MessageSid", "From"])
def test_a_message_without_its_sid_or_sender_is_malformed(missing: str) -> None:
    with pytest.raises(Malformed):
        parse_message(without(inbound(), missing), received_at=NOW)


@pytest.mark.parametrize(
    "fields",
    [
        {"From": ""},
        {"MessageSid": ""},
        {"From": "whatsapp:+51" + "9" * 200},
        {"NumMedia": "one"},
        {"NumMedia": "-1"},
        {"NumMedia": "1"},
        {"Latitude": "-12.04", "Longitude": "west"},
        {"Latitude": "-12.04"},
        {"Latitude": "91", "Longitude": "0"},
        {"Latitude": "0", "Longitude": "-180.5"},
        {"Latitude": "nan", "Longitude": "0"},
    ],
    ids=[
        "empty-from",
        "empty-sid",
        "long-from",
        "num-media-word",
        "num-media-negative",
        "media-without-url",
        "longitude-word",
        "latitude-alone",
        "latitude-range",
        "longitude-range",
        "nan",
    ],
)
def test_a_message_whose_parts_do_not_read_is_malformed(fields: dict[str, str]) -> None:
    with pytest.raises(Malformed):
        parse_message(inbound(**fields), received_at=NOW)


# ----------------------------------------------------------------------- status callbacks


@pytest.mark.parametrize(
    ("message_status", "expected"),
    [
        ("sent", DeliveryStatus.SENT),
        ("delivered", DeliveryStatus.DELIVERED),
        ("read", DeliveryStatus.READ),
    ],
)
def test_a_progress_status_moves_the_message_and_is_dated_when_received(
    message_status: str, expected: DeliveryStatus
) -> None:
    update = parse_status(status(message_status), received_at=NOW)

    assert update == StatusUpdate(channel=Channel.TWILIO, external_id=SID, status=expected, at=NOW)


@pytest.mark.parametrize("message_status", ["failed", "undelivered"])
def test_a_failure_carries_twilios_error_code_and_message(message_status: str) -> None:
    params = status(
        message_status,
        ErrorCode="63016",
        ErrorMessage="Failed to send freeform message because you are outside the allowed window.",
    )

    update = parse_status(params, received_at=NOW)

    assert update == StatusUpdate(
        channel=Channel.TWILIO,
        external_id=SID,
        status=DeliveryStatus.FAILED,
        at=NOW,
        error_code="63016",
        error_title="Failed to send freeform message because you are outside the allowed window.",
    )


def test_a_failure_without_an_error_message_keeps_the_code() -> None:
    update = parse_status(status("undelivered", ErrorCode="63024"), received_at=NOW)

    assert update is not None
    assert (update.error_code, update.error_title) == ("63024", None)


def test_an_error_code_on_a_success_is_not_a_failure() -> None:
    update = parse_status(status("delivered", ErrorCode="0"), received_at=NOW)

    assert update is not None
    assert (update.status, update.error_code) == (DeliveryStatus.DELIVERED, None)


@pytest.mark.parametrize(
    "message_status",
    ["queued", "sending", "accepted", "scheduled", "canceled", "partially_delivered", "new"],
)
def test_a_status_before_whatsapp_or_unknown_is_not_tracked(message_status: str) -> None:
    assert parse_status(status(message_status), received_at=NOW) is None


def test_a_status_is_read_whatever_its_case() -> None:
    update = parse_status(status("Delivered"), received_at=NOW)

    assert update is not None
    assert update.status is DeliveryStatus.DELIVERED


@pytest.mark.parametrize("missing", ["MessageSid", "MessageStatus"])
def test_a_status_without_its_sid_or_status_is_malformed(missing: str) -> None:
    with pytest.raises(Malformed):
        parse_status(without(status("delivered"), missing), received_at=NOW)
