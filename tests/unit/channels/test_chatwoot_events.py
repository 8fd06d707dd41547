"""Chatwoot's agent-bot events as channel events, and how a delivery is told authentic.

Payloads follow what Chatwoot builds for its agent bot (``AgentBotListener``):
``Message#webhook_data`` for ``message_created`` (``account``, ``conversation`` as push data,
``inbox``, ``sender`` as ``Contact#webhook_data``, ``attachments`` as
``Attachment#push_event_data``), and the conversation's push data with ``event`` (and
``changed_attributes``) for the status events.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.channels.chatwoot.webhook import parse_event, signature_valid, token_valid
from talia_core.conversations.events import (
    InboundMessage,
    InboxEntry,
    Location,
    MediaRef,
    Sender,
    ThreadUpdate,
    event_from_data,
)
from talia_core.conversations.vocabulary import (
    Channel,
    ChannelIdentity,
    ConversationStatus,
    IdentityKind,
    MessageType,
)
from talia_core.shared.errors import Malformed

BASE = "https://chat.example.com"
LUIS = Sender(
    (ChannelIdentity(IdentityKind.CHATWOOT_CONTACT, "1203"),), name="Luis", phone="+51987654321"
)
UPDATED_AT = 1767270000.123456


def conversation(status: str = "pending", **changes: Any) -> dict[str, Any]:
    """A conversation as Chatwoot pushes it (``Conversations::EventDataPresenter``)."""
    data: dict[str, Any] = {
        "additional_attributes": {},
        "can_reply": True,
        "channel": "Channel::Whatsapp",
        "contact_inbox": {"id": 88, "contact_id": 1203, "inbox_id": 3, "source_id": "51987654321"},
        "id": 42,
        "inbox_id": 3,
        "messages": [],
        "labels": [],
        "meta": {
            "sender": {"id": 1203, "name": "Luis", "phone_number": "+51987654321"},
            "assignee": None,
            "assignee_type": None,
            "team": None,
            "hmac_verified": False,
        },
        "status": status,
        "custom_attributes": {},
        "snoozed_until": None,
        "unread_count": 1,
        "first_reply_created_at": None,
        "priority": None,
        "waiting_since": 1767269990,
        "agent_last_seen_at": 0,
        "contact_last_seen_at": 0,
        "last_activity_at": 1767269995,
        "timestamp": 1767269995,
        "created_at": 1767269990,
        "updated_at": UPDATED_AT,
    }
    return data | changes


def message(**changes: Any) -> dict[str, Any]:
    """``message_created`` for a WhatsApp message Luis wrote, as the agent bot gets it."""
    data: dict[str, Any] = {
        "account": {"id": 7, "name": "Invitaciones Talia"},
        "additional_attributes": {},
        "content_attributes": {},
        "content_type": "text",
        "content": "Hola, quiero una invitación de boda",
        "conversation": conversation(),
        "created_at": "2026-01-01T12:26:35.123Z",
        "id": 3150,
        "inbox": {"id": 3, "name": "WhatsApp Ventas"},
        "message_type": "incoming",
        "private": False,
        "sender": {
            "account": {"id": 7, "name": "Invitaciones Talia"},
            "additional_attributes": {},
            "avatar": "",
            "custom_attributes": {},
            "email": None,
            "id": 1203,
            "identifier": None,
            "name": "Luis",
            "phone_number": "+51987654321",
            "thumbnail": "",
            "blocked": False,
            "type": "contact",
        },
        "source_id": "wamid.HBgLNTE5ODc2NTQzMjEVAgASGBQzQTVCMTc0RjQwMTA3Q0Q2NDVFMgA=",
        "event": "message_created",
    }
    return data | changes


def attachment(file_type: str, **fields: Any) -> dict[str, Any]:
    """``Attachment#push_event_data`` of a stored file."""
    name = {"image": "foto.jpg", "audio": "nota.ogg", "video": "clip.mp4", "file": "factura.pdf"}
    data: dict[str, Any] = {
        "id": 77,
        "message_id": 3150,
        "file_type": file_type,
        "account_id": 7,
        "extension": None,
        "data_url": f"{BASE}/rails/active_storage/blobs/redirect/eyJfcmFpbHMi--a1/"
        + name.get(file_type, "x"),
        "thumb_url": f"{BASE}/rails/active_storage/representations/redirect/eyJf--b2/thumb.jpg",
        "file_size": 51234,
        "width": None,
        "height": None,
    }
    return data | fields


def status_event(event: str, status: str, **changes: Any) -> dict[str, Any]:
    data = conversation(status, **changes) | {"event": event}
    if event == "conversation_status_changed":
        data["changed_attributes"] = [
            {"status": {"current_value": status, "previous_value": "pending"}}
        ]
    return data


def parsed(payload: dict[str, Any]) -> list[Any]:
    notification = parse_event(json.dumps(payload).encode())
    assert notification.ignored == []
    return notification.events


def ignored(payload: dict[str, Any]) -> list[str]:
    notification = parse_event(json.dumps(payload).encode())
    assert notification.events == []
    return notification.ignored


# --------------------------------------------------------------------------- messages


def test_a_contacts_message_is_an_inbound_text_of_its_conversation() -> None:
    [event] = parsed(message())

    assert event == InboundMessage(
        channel=Channel.CHATWOOT,
        external_id="3150",
        sender=LUIS,
        type=MessageType.TEXT,
        sent_at=datetime(2026, 1, 1, 12, 26, 35, 123000, tzinfo=UTC),
        text="Hola, quiero una invitación de boda",
        thread="42",
        raw_type="text",
    )


def test_a_message_survives_the_inbox_as_data() -> None:
    [event] = parsed(message(attachments=[attachment("file")]))

    entry = InboxEntry.of(event, datetime(2026, 1, 1, tzinfo=UTC))

    assert entry.key == "message:3150"
    assert event_from_data(json.loads(json.dumps(entry.data))) == event


def test_a_sender_without_name_or_phone_is_still_a_sender() -> None:
    [event] = parsed(message(sender={"id": 9, "name": "", "type": "contact"}))

    assert event.sender == Sender((ChannelIdentity(IdentityKind.CHATWOOT_CONTACT, "9"),))


@pytest.mark.parametrize(
    ("created_at", "expected"),
    [
        ("2026-01-01T12:26:35.000Z", datetime(2026, 1, 1, 12, 26, 35, tzinfo=UTC)),
        ("2026-01-01T07:26:35.000-05:00", datetime(2026, 1, 1, 12, 26, 35, tzinfo=UTC)),
        ("2020-03-03 13:05:57 UTC", datetime(2020, 3, 3, 13, 5, 57, tzinfo=UTC)),
        (1767270395, datetime(2026, 1, 1, 12, 26, 35, tzinfo=UTC)),
        ("1767270395", datetime(2026, 1, 1, 12, 26, 35, tzinfo=UTC)),
    ],
    ids=["rails-json", "offset", "old-ruby-to_s", "unix", "unix-string"],
)
def test_the_time_of_a_message_is_read_as_chatwoot_writes_it(
    created_at: object, expected: datetime
) -> None:
    [event] = parsed(message(created_at=created_at))

    assert event.sent_at == expected


def test_a_message_type_given_as_its_number_is_read_too() -> None:
    [event] = parsed(message(message_type=0))

    assert event.external_id == "3150"


@pytest.mark.parametrize(
    ("file_type", "kind"),
    [
        ("image", MessageType.IMAGE),
        ("audio", MessageType.AUDIO),
        ("video", MessageType.VIDEO),
    ],
)
def test_media_points_at_its_data_url_with_the_caption_as_text(
    file_type: str, kind: MessageType
) -> None:
    item = attachment(file_type)

    [event] = parsed(message(content="mira esto", attachments=[item]))

    assert event.type is kind
    assert event.media == MediaRef(item["data_url"])
    assert event.text == "mira esto"
    assert event.raw_type == file_type


def test_a_file_is_a_document_named_after_its_url() -> None:
    url = f"{BASE}/rails/active_storage/blobs/redirect/eyJf--c3/Cotizaci%C3%B3n%20boda.pdf"

    [event] = parsed(message(content=None, attachments=[attachment("file", data_url=url)]))

    assert event.type is MessageType.DOCUMENT
    assert event.media == MediaRef(url, None, "Cotización boda.pdf")
    assert event.text is None


def test_a_shared_location_is_a_location() -> None:
    shared = {
        "id": 78,
        "message_id": 3150,
        "file_type": "location",
        "account_id": 7,
        "coordinates_lat": -12.0464,
        "coordinates_long": -77.0428,
        "fallback_title": "Plaza de Armas de Lima",
        "data_url": "https://maps.google.com/?q=-12.0464,-77.0428",
    }

    [event] = parsed(message(content=None, attachments=[shared]))

    assert event.type is MessageType.LOCATION
    assert event.location == Location(-12.0464, -77.0428, "Plaza de Armas de Lima")
    assert event.media is None


@pytest.mark.parametrize(
    "item",
    [
        {"id": 79, "file_type": "contact", "fallback_title": "+51911111111"},
        {"id": 80, "file_type": "fallback", "fallback_title": "Shared post", "data_url": None},
        attachment("image", data_url=None),
        {"id": 81, "file_type": "location", "coordinates_lat": 91.0, "coordinates_long": 0.0},
        "not an object",
    ],
    ids=["contact-card", "fallback", "image-without-url", "impossible-location", "garbage"],
)
def test_an_attachment_that_cannot_be_read_is_kept_as_unsupported(item: object) -> None:
    [event] = parsed(message(content=None, attachments=[item]))

    assert event.type is MessageType.UNSUPPORTED
    assert event.media is None
    assert event.location is None


def test_each_attachment_of_a_message_is_an_event_and_the_first_keeps_the_text() -> None:
    photos = [attachment("image", id=n, data_url=f"{BASE}/blob/{n}.jpg") for n in (1, 2, 3)]

    events = parsed(message(content="las tres opciones", attachments=photos))

    assert [e.external_id for e in events] == ["3150", "3150:2", "3150:3"]
    assert [e.text for e in events] == ["las tres opciones", None, None]
    assert [e.media.reference for e in events] == [p["data_url"] for p in photos]
    assert {e.thread for e in events} == {"42"}


def test_a_message_with_neither_text_nor_attachments_is_unsupported() -> None:
    [event] = parsed(message(content=None, content_type="input_csat"))

    assert event.type is MessageType.UNSUPPORTED
    assert event.raw_type == "input_csat"


@pytest.mark.parametrize(
    "kind",
    ["outgoing", "activity", "template", 1, 2],
)
def test_messages_not_written_by_the_contact_are_ignored(kind: object) -> None:
    [reason] = ignored(message(message_type=kind, sender={"id": 1, "type": "agent_bot"}))

    assert "3150" in reason
    assert "not from the contact" in reason


def test_a_private_note_is_ignored() -> None:
    [reason] = ignored(message(message_type="outgoing", private=True, content="ojo: VIP"))

    assert "private note" in reason


def test_a_contacts_message_marked_private_is_ignored_too() -> None:
    [reason] = ignored(message(private=True))

    assert "private note 3150" in reason


# ---------------------------------------------------------------------- status events


def test_opening_the_conversation_hands_it_to_the_agent_it_is_assigned_to() -> None:
    meta = conversation()["meta"] | {
        "assignee": {"id": 5, "name": "Eva", "type": "user", "availability_status": "online"},
        "assignee_type": "User",
    }

    [event] = parsed(status_event("conversation_status_changed", "open", meta=meta))

    assert event == ThreadUpdate(
        channel=Channel.CHATWOOT,
        thread="42",
        status=ConversationStatus.HUMAN,
        at=datetime.fromtimestamp(UPDATED_AT, UTC),
        assignee="5",
    )


def test_an_agent_bot_as_assignee_is_no_agent() -> None:
    meta = conversation()["meta"] | {
        "assignee": {"id": 1, "name": "Talia", "type": "agent_bot"},
        "assignee_type": "AgentBot",
    }

    [event] = parsed(status_event("conversation_status_changed", "open", meta=meta))

    assert event.status is ConversationStatus.HUMAN
    assert event.assignee is None


@pytest.mark.parametrize(
    ("event", "status", "expected"),
    [
        ("conversation_status_changed", "open", ConversationStatus.HUMAN),
        ("conversation_status_changed", "resolved", ConversationStatus.CLOSED),
        ("conversation_status_changed", "pending", ConversationStatus.BOT),
        ("conversation_opened", "open", ConversationStatus.HUMAN),
        ("conversation_resolved", "resolved", ConversationStatus.CLOSED),
    ],
)
def test_a_status_event_moves_the_thread(
    event: str, status: str, expected: ConversationStatus
) -> None:
    [update] = parsed(status_event(event, status))

    assert (update.thread, update.status, update.assignee) == ("42", expected, None)


def test_the_events_of_one_change_are_one_inbox_entry_and_the_next_change_another() -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    [changed] = parsed(status_event("conversation_status_changed", "open"))
    [opened] = parsed(status_event("conversation_opened", "open"))
    [reopened] = parsed(status_event("conversation_opened", "open", updated_at=UPDATED_AT + 60))

    assert InboxEntry.of(changed, at).key == InboxEntry.of(opened, at).key
    assert InboxEntry.of(reopened, at).key != InboxEntry.of(opened, at).key


def test_without_updated_at_the_last_activity_dates_the_change() -> None:
    payload = status_event("conversation_resolved", "resolved")
    del payload["updated_at"]

    [update] = parsed(payload)

    assert update.at == datetime.fromtimestamp(1767269995, UTC)


def test_the_status_may_come_only_in_the_changed_attributes() -> None:
    payload = status_event("conversation_status_changed", "resolved")
    del payload["status"]

    [update] = parsed(payload)

    assert update.status is ConversationStatus.CLOSED


@pytest.mark.parametrize("status", ["snoozed", "archived"])
def test_a_status_that_does_not_move_the_thread_is_ignored(status: str) -> None:
    [reason] = ignored(status_event("conversation_status_changed", status))

    assert "42" in reason
    assert repr(status) in reason


@pytest.mark.parametrize(
    "payload",
    [
        {"event": "webwidget_triggered", "id": 88, "event_info": {"initiated_at": {}}},
        conversation() | {"event": "conversation_created"},
        conversation() | {"event": "conversation_updated", "changed_attributes": []},
        message(event="message_updated"),
        {"event": "contact_created", "id": 1203},
    ],
    ids=["webwidget", "created", "updated", "message-updated", "unknown"],
)
def test_other_events_are_ignored_by_name(payload: dict[str, Any]) -> None:
    [reason] = ignored(payload)

    assert repr(payload["event"]) in reason


# ---------------------------------------------------------------------------- malformed


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b"[1, 2]", b'"message_created"', b"{}", b'{"event": 12}'],
    ids=["empty", "text", "array", "string", "no-event", "event-not-text"],
)
def test_a_body_that_is_not_an_event_is_malformed(body: bytes) -> None:
    with pytest.raises(Malformed):
        parse_event(body)


def without(payload: dict[str, Any], *path: str) -> dict[str, Any]:
    changed = copy.deepcopy(payload)
    holder = changed
    for key in path[:-1]:
        holder = holder[key]
    del holder[path[-1]]
    return changed


@pytest.mark.parametrize(
    "payload",
    [
        without(message(), "id"),
        message(id=None),
        message(id=True),
        without(message(), "conversation"),
        without(message(), "conversation", "id"),
        without(message(), "sender"),
        without(message(), "sender", "id"),
        without(message(), "created_at"),
        message(created_at="yesterday"),
        message(created_at=10**20),
        message(attachments={"file_type": "image"}),
        without(status_event("conversation_opened", "open"), "id"),
        without(
            without(
                without(status_event("conversation_opened", "open"), "updated_at"),
                "last_activity_at",
            ),
            "timestamp",
        ),
    ],
    ids=[
        "no-id",
        "null-id",
        "boolean-id",
        "no-conversation",
        "no-conversation-id",
        "no-sender",
        "no-sender-id",
        "no-time",
        "bad-time",
        "impossible-time",
        "attachments-not-a-list",
        "status-without-conversation",
        "status-without-time",
    ],
)
def test_an_event_missing_what_it_needs_is_malformed(payload: dict[str, Any]) -> None:
    with pytest.raises(Malformed):
        parse_event(json.dumps(payload).encode())


# ---------------------------------------------------------------------------- signature

SECRET = b"Kq7vZ3pTn9WcYx2B5mH8jR4s"
BODY = json.dumps(message()).encode()
NOW = 1767270400


def chatwoot_signs(
    body: bytes = BODY, timestamp: int = NOW, secret: bytes = SECRET
) -> dict[str, str]:
    """The headers as ``Webhooks::Trigger`` sets them: HMAC-SHA256 of "{ts}.{body}"."""
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret, signed, hashlib.sha256).hexdigest()
    return {"X-Chatwoot-Timestamp": str(timestamp), "X-Chatwoot-Signature": f"sha256={digest}"}


def test_a_delivery_signed_with_the_bots_secret_is_valid() -> None:
    assert signature_valid(SECRET, BODY, chatwoot_signs(), now=NOW)


def test_header_names_are_read_in_any_case() -> None:
    lower = {name.lower(): value for name, value in chatwoot_signs().items()}

    assert signature_valid(SECRET, BODY, lower, now=NOW)


def test_a_signature_by_another_secret_is_not_valid() -> None:
    assert not signature_valid(SECRET, BODY, chatwoot_signs(secret=b"other"), now=NOW)


def test_a_body_changed_after_signing_is_not_valid() -> None:
    assert not signature_valid(SECRET, BODY + b" ", chatwoot_signs(), now=NOW)


def test_a_timestamp_swapped_after_signing_is_not_valid() -> None:
    headers = chatwoot_signs() | {"X-Chatwoot-Timestamp": str(NOW + 1)}

    assert not signature_valid(SECRET, BODY, headers, now=NOW)


def test_a_signature_over_the_body_alone_is_not_chatwoots() -> None:
    digest = hmac.new(SECRET, BODY, hashlib.sha256).hexdigest()
    headers = {"X-Chatwoot-Timestamp": str(NOW), "X-Chatwoot-Signature": f"sha256={digest}"}

    assert not signature_valid(SECRET, BODY, headers, now=NOW)


@pytest.mark.parametrize(
    ("signed_at", "valid"),
    [(NOW - 300, True), (NOW + 300, True), (NOW - 301, False), (NOW + 301, False)],
    ids=["5-minutes-old", "5-minutes-ahead", "too-old", "too-far-ahead"],
)
def test_only_a_recent_timestamp_is_valid(signed_at: int, valid: bool) -> None:
    assert signature_valid(SECRET, BODY, chatwoot_signs(timestamp=signed_at), now=NOW) is valid


def test_the_allowed_age_can_be_set() -> None:
    headers = chatwoot_signs(timestamp=NOW - 60)

    assert not signature_valid(SECRET, BODY, headers, now=NOW, max_age_seconds=30)


def test_without_a_now_the_clock_decides() -> None:
    assert signature_valid(SECRET, BODY, chatwoot_signs(timestamp=int(time.time())))
    assert not signature_valid(SECRET, BODY, chatwoot_signs(timestamp=1))


def test_the_hex_digest_may_come_in_capitals() -> None:
    headers = chatwoot_signs()
    digest = headers["X-Chatwoot-Signature"].removeprefix("sha256=")
    headers["X-Chatwoot-Signature"] = "sha256=" + digest.upper()

    assert signature_valid(SECRET, BODY, headers, now=NOW)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Chatwoot-Signature": chatwoot_signs()["X-Chatwoot-Signature"]},
        {"X-Chatwoot-Timestamp": str(NOW)},
        chatwoot_signs() | {"X-Chatwoot-Timestamp": "1767270400.5"},
        chatwoot_signs() | {"X-Chatwoot-Timestamp": "9" * 40},
        chatwoot_signs() | {"X-Chatwoot-Timestamp": "١٧٦٧٢٧٠٤٠٠"},
        chatwoot_signs() | {"X-Chatwoot-Signature": "sha256="},
        chatwoot_signs()
        | {
            "X-Chatwoot-Signature": chatwoot_signs()["X-Chatwoot-Signature"].removeprefix("sha256=")
        },
        chatwoot_signs() | {"X-Chatwoot-Signature": "sha256=" + "é" * 64},
    ],
    ids=[
        "none",
        "no-timestamp",
        "no-signature",
        "fractional-timestamp",
        "huge-timestamp",
        "non-ascii-digits",
        "no-digest",
        "no-prefix",
        "non-ascii",
    ],
)
def test_missing_or_garbled_headers_are_not_valid(headers: dict[str, str]) -> None:
    assert not signature_valid(SECRET, BODY, headers, now=NOW)


def test_without_a_secret_nothing_is_valid() -> None:
    assert not signature_valid(b"", BODY, chatwoot_signs(secret=b""), now=NOW)


# -------------------------------------------------------------------------------- token


def test_the_bots_own_token_is_valid() -> None:
    assert token_valid("s3cr3t-t0ken", "s3cr3t-t0ken")


@pytest.mark.parametrize(
    "given",
    [None, "", "s3cr3t-t0ke", "s3cr3t-t0ken ", "S3CR3T-T0KEN", "s3cr3t-tøken"],
    ids=["none", "empty", "shorter", "longer", "case", "non-ascii"],
)
def test_any_other_token_is_not(given: str | None) -> None:
    assert not token_valid("s3cr3t-t0ken", given)


def test_without_an_expected_token_nothing_is_valid() -> None:
    assert not token_valid("", "")
    assert not token_valid("", "anything")
