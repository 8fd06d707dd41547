"""Reading Cloud API notifications: payloads in the shapes Meta's webhook reference shows
(messages, statuses, business-scoped user ids), what is skipped and what is refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.channels.whatsapp.webhook import parse_notification
from talia_core.conversations.events import InboundMessage, Location, MediaRef, Sender, StatusUpdate
from talia_core.conversations.vocabulary import (
    Channel,
    ChannelIdentity,
    DeliveryStatus,
    IdentityKind,
    MessageType,
)
from talia_core.shared.errors import Malformed

WA_ID = "51987654321"
BSUID = "PE.13491208655302741918"
AT = 1767268800  # 2026-01-01 12:00:00 UTC
WHEN = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
ANA = Sender(
    (ChannelIdentity(IdentityKind.WA_ID, WA_ID), ChannelIdentity(IdentityKind.BSUID, BSUID)),
    name="Ana Quispe",
    phone=WA_ID,
)


def contact(
    *, wa_id: str | None = WA_ID, user_id: str | None = BSUID, name: str = "Ana Quispe"
) -> dict[str, Any]:
    entry: dict[str, Any] = {"profile": {"name": name}}
    if wa_id:
        entry["wa_id"] = wa_id
    if user_id:
        entry["user_id"] = user_id
        entry["parent_user_id"] = "PE.ENT.11815799212886844830"
    return entry


def message(
    kind: str, content: Any = None, *, id: str = "wamid.HBgLNTE5ODc2NTQzMjEVAgASGBQ", **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {"from": WA_ID, "id": id, "timestamp": str(AT), "type": kind}
    if content is not None:
        body[kind] = content
    return body | extra


def value(
    *,
    messages: list[dict[str, Any]] | None = None,
    statuses: list[dict[str, Any]] | None = None,
    contacts: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "51999999999", "phone_number_id": "106540352242922"},
    }
    if messages is not None:
        body["contacts"] = [contact()] if contacts is None else contacts
        body["messages"] = messages
    if statuses is not None:
        body["statuses"] = statuses
    return body


def notification(*values: dict[str, Any], field: str = "messages") -> bytes:
    changes = [{"value": v, "field": field} for v in values]
    document = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": changes}],
    }
    return json.dumps(document).encode()


def only_message(body: bytes) -> InboundMessage:
    parsed = parse_notification(body)
    assert parsed.ignored == []
    [event] = parsed.events
    assert isinstance(event, InboundMessage)
    return event


# ----------------------------------------------------------------------------- messages


def test_a_text_message_comes_with_its_sender_and_the_time_it_was_sent() -> None:
    event = only_message(notification(value(messages=[message("text", {"body": "Hola 👋"})])))

    assert event == InboundMessage(
        channel=Channel.WHATSAPP,
        external_id="wamid.HBgLNTE5ODc2NTQzMjEVAgASGBQ",
        sender=ANA,
        type=MessageType.TEXT,
        sent_at=WHEN,
        text="Hola 👋",
        raw_type="text",
    )


def test_an_image_with_a_caption_is_a_media_reference_with_the_caption_as_text() -> None:
    image = {
        "caption": "así quiero la invitación",
        "mime_type": "image/jpeg",
        "sha256": "TjHqp/gvp4RSuWiDkQwc8LbEMBSqgH1PkFD+Z6Jn5Kc=",
        "id": "1037543291543636",
    }
    event = only_message(notification(value(messages=[message("image", image)])))

    assert event.type is MessageType.IMAGE
    assert event.text == "así quiero la invitación"
    assert event.media == MediaRef("1037543291543636", "image/jpeg")


def test_a_document_keeps_its_filename() -> None:
    document = {
        "caption": "mi DNI",
        "filename": "dni.pdf",
        "mime_type": "application/pdf",
        "sha256": "grwfwe/ZPx0wAbdfbdeFUNItPZ0RylL8gGUvdt3YFqc=",
        "id": "712328594364727",
    }
    event = only_message(notification(value(messages=[message("document", document)])))

    assert event.type is MessageType.DOCUMENT
    assert event.media == MediaRef("712328594364727", "application/pdf", "dni.pdf")
    assert event.text == "mi DNI"


@pytest.mark.parametrize(
    ("kind", "content", "expected"),
    [
        (
            "audio",
            {"mime_type": "audio/ogg; codecs=opus", "sha256": "m04p", "id": "111", "voice": True},
            MessageType.AUDIO,
        ),
        ("video", {"mime_type": "video/mp4", "sha256": "Jh+2", "id": "111"}, MessageType.VIDEO),
        (
            "sticker",
            {"mime_type": "image/webp", "sha256": "OmT4", "id": "111", "animated": False},
            MessageType.IMAGE,
        ),
    ],
    ids=["voice-note", "video", "sticker"],
)
def test_audio_video_and_stickers_are_media_under_their_provider_type(
    kind: str, content: dict[str, Any], expected: MessageType
) -> None:
    event = only_message(notification(value(messages=[message(kind, content)])))

    assert event.type is expected
    assert event.media == MediaRef("111", content["mime_type"])
    assert event.raw_type == kind
    assert event.text is None


def test_a_shared_location_keeps_its_coordinates_name_and_address() -> None:
    place = {
        "latitude": -12.0464,
        "longitude": -77.0428,
        "name": "Plaza Mayor",
        "address": "Jr. de la Unión, Lima",
        "url": "https://maps.google.com/?cid=1",
    }
    event = only_message(notification(value(messages=[message("location", place)])))

    assert event.type is MessageType.LOCATION
    assert event.location == Location(-12.0464, -77.0428, "Plaza Mayor", "Jr. de la Unión, Lima")


def test_a_current_location_may_come_without_a_name() -> None:
    place = {"latitude": -12, "longitude": -77.0428}
    event = only_message(notification(value(messages=[message("location", place)])))

    assert event.location == Location(-12.0, -77.0428)


@pytest.mark.parametrize(
    "interactive",
    [
        {"type": "button_reply", "button_reply": {"id": "confirm-42", "title": "Sí, confirmo"}},
        {
            "type": "list_reply",
            "list_reply": {
                "id": "plan-premium",
                "title": "Sí, confirmo",
                "description": "Plan premium",
            },
        },
    ],
    ids=["button_reply", "list_reply"],
)
def test_a_button_or_list_reply_is_interactive_with_the_title_tapped_as_text(
    interactive: dict[str, Any],
) -> None:
    context = {"from": "51999999999", "id": "wamid.asked"}
    body = notification(value(messages=[message("interactive", interactive, context=context)]))

    event = only_message(body)

    assert (event.type, event.text, event.raw_type) == (
        MessageType.INTERACTIVE,
        "Sí, confirmo",
        "interactive",
    )


def test_a_template_quick_reply_button_is_interactive_with_its_text() -> None:
    button = {"payload": "RSVP_YES", "text": "Asistiré"}
    event = only_message(notification(value(messages=[message("button", button)])))

    assert (event.type, event.text, event.raw_type) == (
        MessageType.INTERACTIVE,
        "Asistiré",
        "button",
    )


@pytest.mark.parametrize(
    "raw",
    [
        message(
            "unsupported",
            {"type": "poll"},
            errors=[
                {
                    "code": 131051,
                    "title": "Message type unknown",
                    "message": "Message type unknown",
                    "error_data": {"details": "Message type is currently not supported."},
                }
            ],
        ),
        message(
            "contacts",
            [{"name": {"formatted_name": "Rosa"}, "phones": [{"phone": "+51 911 111 111"}]}],
        ),
        message("order", {"catalog_id": "354160437058781", "product_items": []}),
        message(
            "system",
            {
                "body": "Ana changed her number",
                "wa_id": "51900000000",
                "type": "user_changed_number",
            },
        ),
        message("hologram", {"id": "1"}),
        message("interactive", {"type": "nfm_reply", "nfm_reply": {"response_json": "{}"}}),
        message("text", {"body": ""}),
        message("image", {"mime_type": "image/jpeg"}),
        message("location", {"latitude": "north", "longitude": 1}),
        message("location", {"latitude": 120.0, "longitude": 1}),
        message("interactive"),
    ],
    ids=[
        "unsupported",
        "contacts",
        "order",
        "system",
        "unknown",
        "flow-reply",
        "empty-text",
        "image-without-id",
        "location-in-words",
        "location-off-the-globe",
        "interactive-without-content",
    ],
)
def test_what_cannot_be_read_is_stored_as_unsupported_under_its_provider_type(
    raw: dict[str, Any],
) -> None:
    event = only_message(notification(value(messages=[raw])))

    assert event.type is MessageType.UNSUPPORTED
    assert event.raw_type == raw["type"]
    assert (event.text, event.media, event.location) == (None, None, None)
    assert event.sender == ANA


def test_a_message_without_a_type_is_unsupported() -> None:
    raw = message("text", {"body": "hola"})
    del raw["type"]

    event = only_message(notification(value(messages=[raw])))

    assert (event.type, event.raw_type) == (MessageType.UNSUPPORTED, None)


# ------------------------------------------------------------------------------ senders


def test_a_sender_with_a_username_and_no_phone_is_known_by_business_scoped_id() -> None:
    raw = message("text", {"body": "hola"}, from_user_id=BSUID)
    del raw["from"]
    profile = {"name": "Ana Quispe", "username": "@anaq"}
    bsuid_only = {"profile": profile, "user_id": BSUID}

    event = only_message(notification(value(messages=[raw], contacts=[bsuid_only])))

    assert event.sender == Sender(
        (ChannelIdentity(IdentityKind.BSUID, BSUID),), name="Ana Quispe", phone=None
    )


def test_a_sender_from_before_business_scoped_ids_is_known_by_phone() -> None:
    body = notification(
        value(messages=[message("text", {"body": "hola"})], contacts=[contact(user_id=None)])
    )

    assert only_message(body).sender == Sender(
        (ChannelIdentity(IdentityKind.WA_ID, WA_ID),), name="Ana Quispe", phone=WA_ID
    )


def test_a_message_naming_nobody_takes_its_ids_from_the_only_contact() -> None:
    raw = message("text", {"body": "hola"})
    del raw["from"]

    assert only_message(notification(value(messages=[raw]))).sender == ANA


def test_a_system_message_without_contacts_is_known_by_its_from() -> None:
    raw = message("system", {"body": "changed", "type": "user_changed_number"})

    event = only_message(notification(value(messages=[raw], contacts=[])))

    assert event.sender == Sender((ChannelIdentity(IdentityKind.WA_ID, WA_ID),), phone=WA_ID)


def test_each_message_gets_the_contact_that_sent_it() -> None:
    rosa = contact(wa_id="51911111111", user_id="PE.222", name="Rosa")
    from_rosa = message("text", {"body": "soy Rosa"}, id="wamid.rosa")
    from_rosa["from"] = "51911111111"
    from_ana = message("text", {"body": "soy Ana"}, id="wamid.ana")

    parsed = parse_notification(
        notification(value(messages=[from_ana, from_rosa], contacts=[rosa, contact()]))
    )

    assert [
        (e.sender.name, e.sender.phone) for e in parsed.events if isinstance(e, InboundMessage)
    ] == [
        ("Ana Quispe", WA_ID),
        ("Rosa", "51911111111"),
    ]


def test_a_lone_contact_naming_someone_else_does_not_lend_its_name() -> None:
    body = notification(
        value(messages=[message("text", {"body": "hola"})], contacts=[contact(wa_id="51900000000")])
    )

    sender = only_message(body).sender

    assert sender.name is None
    assert sender.identities == (ChannelIdentity(IdentityKind.WA_ID, WA_ID),)


# ----------------------------------------------------------------------------- statuses


def status(name: str, **extra: Any) -> dict[str, Any]:
    body = {
        "id": "wamid.sent-by-us",
        "status": name,
        "timestamp": str(AT),
        "recipient_id": WA_ID,
        "recipient_user_id": BSUID,
    }
    return body | extra


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("sent", DeliveryStatus.SENT),
        ("delivered", DeliveryStatus.DELIVERED),
        ("read", DeliveryStatus.READ),
    ],
)
def test_delivery_statuses_move_our_messages(name: str, expected: DeliveryStatus) -> None:
    extra = {
        "conversation": {"id": "7270432eae37", "origin": {"type": "service"}},
        "pricing": {"billable": True, "pricing_model": "PMP", "category": "service"},
    }

    parsed = parse_notification(notification(value(statuses=[status(name, **extra)])))

    assert parsed.events == [StatusUpdate(Channel.WHATSAPP, "wamid.sent-by-us", expected, WHEN)]
    assert parsed.ignored == []


def test_a_status_carries_back_our_message_id_sent_as_callback_data() -> None:
    sent = status("sent", biz_opaque_callback_data="0193a6f2-5c1e-7d3a-9b1f-2f0c8e4d7a10")

    parsed = parse_notification(notification(value(statuses=[sent])))

    assert parsed.events == [
        StatusUpdate(
            Channel.WHATSAPP,
            "wamid.sent-by-us",
            DeliveryStatus.SENT,
            WHEN,
            message_id="0193a6f2-5c1e-7d3a-9b1f-2f0c8e4d7a10",
        )
    ]


def test_a_failed_status_carries_metas_first_error() -> None:
    errors = [
        {
            "code": 131047,
            "title": "Re-engagement message",
            "message": "Re-engagement message",
            "error_data": {"details": "Message failed to send because more than 24 hours..."},
            "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
        }
    ]

    parsed = parse_notification(notification(value(statuses=[status("failed", errors=errors)])))

    assert parsed.events == [
        StatusUpdate(
            Channel.WHATSAPP,
            "wamid.sent-by-us",
            DeliveryStatus.FAILED,
            WHEN,
            error_code="131047",
            error_title="Re-engagement message",
        )
    ]


def test_a_failed_status_without_errors_is_still_a_failure() -> None:
    parsed = parse_notification(notification(value(statuses=[status("failed")])))

    [update] = parsed.events
    assert isinstance(update, StatusUpdate)
    assert (update.status, update.error_code, update.error_title) == (
        DeliveryStatus.FAILED,
        None,
        None,
    )


def test_statuses_we_do_not_track_are_skipped_with_a_reason() -> None:
    parsed = parse_notification(notification(value(statuses=[status("played"), status("read")])))

    assert [e.status for e in parsed.events if isinstance(e, StatusUpdate)] == [DeliveryStatus.READ]
    assert parsed.ignored == ["status 'played' of wamid.sent-by-us is not tracked"]


# ---------------------------------------------------------------------- several at once


def test_every_message_and_status_of_every_entry_and_change_is_read_in_order() -> None:
    first = value(
        messages=[
            message("text", {"body": "uno"}, id="wamid.1"),
            message("text", {"body": "dos"}, id="wamid.2"),
        ]
    )
    second = value(statuses=[status("delivered")])
    third = value(messages=[message("text", {"body": "tres"}, id="wamid.3")])
    document = json.loads(notification(first, second))
    changes = [{"value": third, "field": "messages"}]
    document["entry"].append({"id": "102290129340399", "changes": changes})

    parsed = parse_notification(json.dumps(document).encode())

    assert [
        e.text if isinstance(e, InboundMessage) else e.status.value
        for e in parsed.events
        if isinstance(e, InboundMessage | StatusUpdate)
    ] == ["uno", "dos", "delivered", "tres"]


# --------------------------------------------------------------------- skipped, refused


def test_other_fields_are_skipped_with_a_reason() -> None:
    account_update = {"phone_number": "51999999999", "event": "VERIFIED_ACCOUNT"}

    parsed = parse_notification(notification(account_update, field="account_update"))

    assert parsed.events == []
    assert parsed.ignored == ["field 'account_update' is not handled"]


def test_a_reaction_is_skipped_with_a_reason() -> None:
    reaction = {"message_id": "wamid.ours", "emoji": "❤️"}

    parsed = parse_notification(notification(value(messages=[message("reaction", reaction)])))

    assert parsed.events == []
    assert parsed.ignored == ["reaction wamid.HBgLNTE5ODc2NTQzMjEVAgASGBQ is not stored"]


def test_errors_meta_reports_in_a_change_are_skipped_with_their_code() -> None:
    errors = {"errors": [{"code": 131000, "title": "Something went wrong", "message": "x"}]}

    parsed = parse_notification(notification(value() | errors))

    assert parsed.ignored == ["error 131000: Something went wrong"]


def test_a_notification_with_nothing_in_it_is_empty() -> None:
    parsed = parse_notification(b'{"object": "whatsapp_business_account", "entry": []}')

    assert (parsed.events, parsed.ignored) == ([], [])


def broken(change: Any) -> bytes:
    document = {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [change]}]}
    return json.dumps(document).encode()


NOBODY: dict[str, Any] = {"from": None}


def with_message(**fields: Any) -> bytes:
    raw = message("text", {"body": "hola"}) | fields
    return notification(value(messages=[{k: v for k, v in raw.items() if v is not None}]))


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"\xff\xfe",
        b"[]",
        b"[" * 100_000,
        b'{"object": "page", "entry": []}',
        b'{"object": "whatsapp_business_account"}',
        b'{"object": "whatsapp_business_account", "entry": {}}',
        b'{"object": "whatsapp_business_account", "entry": ["x"]}',
        b'{"object": "whatsapp_business_account", "entry": [{"id": "1"}]}',
        broken({"field": "messages"}),
        broken({"field": "messages", "value": []}),
        broken({"field": "messages", "value": {"messages": {}}}),
        broken({"field": "messages", "value": {"messages": ["x"]}}),
        broken(
            {"field": "messages", "value": {"statuses": [{"status": "read", "timestamp": "1"}]}}
        ),
        broken({"field": "messages", "value": {"contacts": "Ana", "messages": []}}),
        with_message(id=None),
        with_message(timestamp=None),
        with_message(timestamp="yesterday"),
        with_message(timestamp="9" * 30),
        notification(value(messages=[message("text", {"body": "x"}, **NOBODY)], contacts=[])),
        with_message(**{"from": "5" * 201}),
    ],
    ids=[
        "empty",
        "text",
        "not-utf8",
        "array",
        "too-deep",
        "other-object",
        "no-entry",
        "entry-not-list",
        "entry-not-object",
        "no-changes",
        "no-value",
        "value-not-object",
        "messages-not-list",
        "message-not-object",
        "status-without-id",
        "contacts-not-list",
        "message-without-id",
        "message-without-timestamp",
        "timestamp-in-words",
        "timestamp-beyond-time",
        "message-without-sender",
        "sender-too-long",
    ],
)
def test_a_body_that_cannot_be_trusted_is_malformed(body: bytes) -> None:
    with pytest.raises(Malformed):
        parse_notification(body)


def test_a_body_with_one_broken_message_stores_none_of_the_others() -> None:
    good = message("text", {"body": "hola"}, id="wamid.good")
    bad = message("text", {"body": "hola"}, id="wamid.bad")
    del bad["timestamp"]

    with pytest.raises(Malformed, match=r"wamid\.bad"):
        parse_notification(notification(value(messages=[good, bad])))
