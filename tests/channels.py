"""Webhook deliveries signed the way each provider signs them, for the HTTP tests."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

from twilio.request_validator import RequestValidator

WHATSAPP_SECRET = "test-whatsapp-app-secret"
VERIFY_TOKEN = "test-verify-token"
TWILIO_TOKEN = "test-twilio-auth-token"
TWILIO_SID = "AC00000000000000000000000000000000"
CHATWOOT_TOKEN = "test-chatwoot-token"
PUBLIC_BASE = "https://talia.example.com"

CHANNELS = {
    "public_base_url": PUBLIC_BASE,
    "whatsapp_app_secret": WHATSAPP_SECRET,
    "whatsapp_verify_token": VERIFY_TOKEN,
    "whatsapp_access_token": "test-access-token",
    "whatsapp_phone_number_id": "1234567890",
    "twilio_account_sid": TWILIO_SID,
    "twilio_auth_token": TWILIO_TOKEN,
    "twilio_whatsapp_from": "whatsapp:+14155238886",
    "chatwoot_url": "https://chat.example.com",
    "chatwoot_account_id": "1",
    "chatwoot_api_token": "test-chatwoot-api-token",
    "chatwoot_webhook_token": CHATWOOT_TOKEN,
    "debounce_seconds": 0,
}


def whatsapp_text(
    text: str, *, message_id: str, wa_id: str = "51987654321", name: str = "Ana"
) -> bytes:
    """A Cloud API notification with one text message, as Meta's documentation shows it."""
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "51999999999", "phone_number_id": "1234567890"},
        "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
        "messages": [
            {
                "from": wa_id,
                "id": message_id,
                "timestamp": str(int(time.time())),
                "type": "text",
                "text": {"body": text},
            }
        ],
    }
    return _notification(value)


def whatsapp_media(
    kind: str,
    media_id: str,
    mime_type: str,
    *,
    message_id: str,
    content: bytes,
    caption: str | None = None,
    wa_id: str = "51987654321",
) -> bytes:
    """A Cloud API notification with one voice note (``kind`` audio) or photo (image)."""
    media: dict[str, Any] = {
        "mime_type": mime_type,
        "sha256": hashlib.sha256(content).hexdigest(),
        "id": media_id,
    }
    if kind == "audio":
        media["voice"] = True
    if caption is not None:
        media["caption"] = caption
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "51999999999", "phone_number_id": "1234567890"},
        "contacts": [{"profile": {"name": "Ana"}, "wa_id": wa_id}],
        "messages": [
            {
                "from": wa_id,
                "id": message_id,
                "timestamp": str(int(time.time())),
                "type": kind,
                kind: media,
            }
        ],
    }
    return _notification(value)


def whatsapp_status(message_id: str, status: str, *, at: int | None = None) -> bytes:
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "51999999999", "phone_number_id": "1234567890"},
        "statuses": [
            {
                "id": message_id,
                "status": status,
                "timestamp": str(at or int(time.time())),
                "recipient_id": "51987654321",
            }
        ],
    }
    return _notification(value)


def _notification(value: dict[str, Any]) -> bytes:
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"value": value, "field": "messages"}]}],
    }
    return json.dumps(body).encode()


def meta_signature(body: bytes, secret: str = WHATSAPP_SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": f"sha256={digest}", "Content-Type": "application/json"}


def twilio_signature(
    path: str, params: dict[str, str], token: str = TWILIO_TOKEN
) -> dict[str, str]:
    """Computed by Twilio's own library, the independent reference."""
    signature = RequestValidator(token).compute_signature(PUBLIC_BASE + path, params)
    return {"X-Twilio-Signature": signature}


def twilio_inbound(text: str, *, sid: str, sender: str = "whatsapp:+51987654321") -> dict[str, str]:
    return {
        "MessageSid": sid,
        "SmsMessageSid": sid,
        "AccountSid": TWILIO_SID,
        "From": sender,
        "To": "whatsapp:+14155238886",
        "Body": text,
        "NumMedia": "0",
        "ProfileName": "Ana",
        "WaId": sender.removeprefix("whatsapp:+"),
    }
