"""Messages out through Twilio's Messages API."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx

from adapters.channels.twilio import SERVICE
from adapters.channels.wire import json_object, retry_after
from talia_core.conversations.errors import DeliveryRefused
from talia_core.conversations.ports import Outbound
from talia_core.conversations.vocabulary import IdentityKind, MessageType
from talia_core.shared.errors import ExternalServiceUnavailable

logger = logging.getLogger("talia.twilio")

_MAX_ERROR_TEXT = 500


class TwilioChannelSender:
    """Sends WhatsApp messages through Twilio's Messages API.

    A template is a Content API template: ``Template.name`` is its ``ContentSid``
    (HX...), its parameters become ``ContentVariables`` ``{"1": ..., "2": ...}``; the
    language is the template's own. Built even when Twilio is not configured (the
    container makes every channel): sending then fails as unavailable, before any call.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        account_sid: str,
        auth_token: str,
        from_address: str,
        status_callback_url: str | None = None,
        base_url: str = "https://api.twilio.com",
    ) -> None:
        if not base_url.startswith(("https://", "http://")):
            raise ValueError("the Twilio API URL must start with https://")
        self._client = client
        self._configured = bool(account_sid and auth_token and from_address)
        self._url = f"{base_url.rstrip('/')}/2010-04-01/Accounts/{account_sid}/Messages.json"
        self._auth = httpx.BasicAuth(account_sid, auth_token)
        self._from = from_address
        self._status_callback = status_callback_url

    async def send(self, message: Outbound) -> str:
        if not self._configured:
            raise ExternalServiceUnavailable(SERVICE, "Twilio is not configured")
        form = self._form(message)
        try:
            response = await self._client.post(
                self._url, data=form, auth=self._auth, follow_redirects=False
            )
        except httpx.TimeoutException as error:
            raise ExternalServiceUnavailable(SERVICE, "sending timed out") from error
        except httpx.RequestError as error:
            raise ExternalServiceUnavailable(
                SERVICE, f"sending failed: {type(error).__name__}"
            ) from error
        answer = json_object(response)
        if response.status_code in (200, 201):
            sid = answer.get("sid") if answer is not None else None
            if not isinstance(sid, str) or not sid:
                raise ExternalServiceUnavailable(SERVICE, "Twilio answered without a message sid")
            return sid
        raise _send_failure(response, answer)

    async def hand_off(self, thread: str | None) -> None:
        """WhatsApp through Twilio has no notion of a human taking over."""

    def _form(self, message: Outbound) -> dict[str, str]:
        if message.to.kind is not IdentityKind.TWILIO_ADDRESS:
            raise DeliveryRefused(SERVICE, None, f"cannot send to a {message.to.kind} identity")
        form = {"To": message.to.value, "From": self._from}
        if message.template is not None:
            form["ContentSid"] = message.template.name
            if message.template.parameters:
                variables = {str(i): p for i, p in enumerate(message.template.parameters, 1)}
                form["ContentVariables"] = json.dumps(variables, ensure_ascii=False)
        elif message.media_url:
            form["MediaUrl"] = message.media_url
            if message.text and message.type is not MessageType.AUDIO:  # a voice note alone
                form["Body"] = message.text
        elif message.text:
            form["Body"] = message.text
        else:
            raise DeliveryRefused(
                SERVICE, None, f"Twilio sends text, media or a template, not {message.type}"
            )
        if self._status_callback:
            form["StatusCallback"] = self._status_callback
        return form


def _send_failure(response: httpx.Response, answer: dict[str, Any] | None) -> Exception:
    status = response.status_code
    code = answer.get("code") if answer is not None else None
    text = answer.get("message") if answer is not None else None
    if status in (401, 403, 404):
        # 20003 Authenticate, 20404 for an account SID that does not exist: our
        # configuration, not the message, so the message waits instead of failing.
        logger.error(
            "Twilio refused the account (HTTP %s, code %s): check the account SID and the "
            "auth token",
            status,
            code,
        )
        return ExternalServiceUnavailable(SERVICE, f"the account was refused (HTTP {status})")
    if status == 429 or status >= 500:
        return ExternalServiceUnavailable(
            SERVICE, f"Twilio answered HTTP {status}", retry_after_seconds=retry_after(response)
        )
    if 400 <= status < 500 and isinstance(text, str) and text:
        return DeliveryRefused(
            SERVICE,
            str(code) if isinstance(code, int | str) and str(code) else None,
            text[:_MAX_ERROR_TEXT],
        )
    logger.error("Twilio answered HTTP %s without an error Twilio documents", status)
    return ExternalServiceUnavailable(SERVICE, f"unreadable answer (HTTP {status})")
