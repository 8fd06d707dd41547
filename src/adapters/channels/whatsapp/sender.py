"""Messages out through ``POST /{version}/{phone-number-id}/messages``: text, templates,
media by link and locations, to a wa_id (``to``) or a business-scoped user id (``recipient``).
A voice note of ours is first uploaded (``POST /{version}/{phone-number-id}/media``,
multipart) and sent by the media id Meta answers."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

import httpx

from adapters.channels import wire
from adapters.channels.whatsapp import graph
from adapters.channels.whatsapp.graph import API_VERSION, GRAPH_URL, SERVICE
from adapters.channels.wire import json_object
from talia_core.conversations.errors import DeliveryRefused
from talia_core.conversations.ports import Outbound
from talia_core.conversations.vocabulary import ChannelIdentity, IdentityKind, MessageType
from talia_core.shared.errors import ExternalServiceUnavailable

logger = logging.getLogger("talia.whatsapp")

_OUTBOUND_MEDIA = {
    MessageType.IMAGE: "image",
    MessageType.VIDEO: "video",
    MessageType.AUDIO: "audio",
    MessageType.DOCUMENT: "document",
}


class WhatsAppCloudChannelSender:
    """Sends through ``POST /{version}/{phone-number-id}/messages`` with a bearer token.

    A sender without a phone number id or token (WhatsApp not configured) answers every
    send as unavailable rather than failing at start: the container builds every channel.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        phone_number_id: str,
        access_token: str,
        base_url: str = GRAPH_URL,
        api_version: str = API_VERSION,
    ) -> None:
        api = graph.api_root(base_url, api_version)
        self._client = client
        self._configured = bool(phone_number_id and access_token)
        phone = quote(phone_number_id, safe="")
        self._url = f"{api}/{phone}/messages"
        self._media_url = f"{api}/{phone}/media"
        self._headers = {"Authorization": f"Bearer {access_token}"}

    async def send(self, message: Outbound) -> str:
        if not self._configured:
            logger.error("WhatsApp has no phone number id or access token configured")
            raise ExternalServiceUnavailable(SERVICE, "no phone number id or access token")
        recipient = _recipient(message.to)
        if message.type is MessageType.AUDIO and message.media_content is not None:
            media_id = await self._upload(message.media_content, message.media_mime_type)
            content: dict[str, Any] = {"type": "audio", "audio": {"id": media_id}}
        else:
            content = _content_of(message)
        payload = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            **recipient,
            **content,
            # Echoed in the message's statuses: a send whose id was never recorded (the
            # worker stopped) is still found by its status, and not sent again.
            "biz_opaque_callback_data": message.message_id,
        }
        answer = await self._post("sending", self._url, json=payload)
        messages = answer.get("messages")
        first = messages[0] if isinstance(messages, list) and messages else None
        external_id = wire.text(first.get("id")) if isinstance(first, dict) else None
        if external_id is None:
            raise ExternalServiceUnavailable(SERVICE, "the send was answered without a message id")
        return external_id

    async def hand_off(self, thread: str | None) -> None:
        """WhatsApp has no notion of a human taking over: nothing to tell it."""

    async def _upload(self, content: bytes, mime_type: str | None) -> str:
        """Meta's id of the uploaded file (kept by Meta for 30 days)."""
        kind = (mime_type or "audio/ogg").split(";")[0].strip()
        answer = await self._post(
            "uploading",
            self._media_url,
            data={"messaging_product": "whatsapp", "type": kind},
            files={"file": ("voice.ogg", content, kind)},
        )
        media_id = wire.text(answer.get("id"))
        if media_id is None:
            raise ExternalServiceUnavailable(SERVICE, "the upload was answered without a media id")
        return media_id

    async def _post(self, action: str, url: str, **request: Any) -> dict[str, Any]:
        try:
            response = await self._client.post(url, headers=self._headers, **request)
        except httpx.TimeoutException as error:
            raise ExternalServiceUnavailable(SERVICE, f"{action} timed out") from error
        except httpx.RequestError as error:
            raise ExternalServiceUnavailable(
                SERVICE, f"{action} failed: {type(error).__name__}"
            ) from error
        if not response.is_success:
            raise graph.failure(response, action)
        return json_object(response) or {}


def _recipient(to: ChannelIdentity) -> dict[str, str]:
    if to.kind is IdentityKind.WA_ID:
        return {"to": to.value}
    if to.kind is IdentityKind.BSUID:
        return {"recipient": to.value}
    raise DeliveryRefused(SERVICE, None, f"a {to.kind.value} identity is not a WhatsApp address")


def _content_of(message: Outbound) -> dict[str, Any]:
    kind = message.type
    if kind is MessageType.TEXT and message.text:
        return {"type": "text", "text": {"body": message.text}}
    if kind is MessageType.TEMPLATE and message.template is not None:
        template: dict[str, Any] = {
            "name": message.template.name,
            "language": {"code": message.template.language},
        }
        if message.template.parameters:
            parameters = [{"type": "text", "text": p} for p in message.template.parameters]
            template["components"] = [{"type": "body", "parameters": parameters}]
        return {"type": "template", "template": template}
    if kind in _OUTBOUND_MEDIA and message.media_url:
        name = _OUTBOUND_MEDIA[kind]
        media: dict[str, str] = {"link": message.media_url}
        if message.text and kind is not MessageType.AUDIO:  # audio takes no caption
            media["caption"] = message.text
        return {"type": name, name: media}
    if kind is MessageType.LOCATION and message.location is not None:
        place = message.location
        location: dict[str, Any] = {"latitude": place.latitude, "longitude": place.longitude}
        if place.name:
            location["name"] = place.name
        if place.address:
            location["address"] = place.address
        return {"type": "location", "location": location}
    raise DeliveryRefused(SERVICE, None, f"a {kind.value} message without its content")
