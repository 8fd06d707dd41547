"""Replies and hand-offs out through Chatwoot's application API.

Sending uses the bot's (or an agent's) access token in the ``api_access_token`` header.
Chatwoot answers errors as ``{"error": ...}`` or ``{"message": ..., "attributes": [...]}``
(``RequestExceptionHandler``). 404 (no such conversation) and 422 and other refusals of the
request itself are a ``DeliveryRefused`` named by the HTTP status; 401, 402, 403 (our token,
account or the bot's access: an operator acts, then the job retries), 408, 429, 5xx,
timeouts and connection errors are ``ExternalServiceUnavailable``.

"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

import httpx

from adapters.channels import wire
from adapters.channels.chatwoot.api import SERVICE, api_root
from adapters.channels.wire import json_object, retry_after
from talia_core.conversations.errors import DeliveryRefused
from talia_core.conversations.ports import Outbound
from talia_core.conversations.vocabulary import MessageType
from talia_core.shared.errors import ExternalServiceUnavailable, TaliaError

logger = logging.getLogger("talia.chatwoot")

_MAX_ERROR_TEXT = 500
# Answers about our token, account or the bot's access, or about load: worth a retry.
_UNAVAILABLE = frozenset({401, 402, 403, 408, 429})


class ChatwootChannelSender:
    """Replies as ``outgoing`` messages of the conversation, hands off by opening it.

    ``POST {base}/api/v1/accounts/{account}/conversations/{thread}/messages`` with
    ``{"content", "message_type": "outgoing", "private": false}`` answers the message (its
    ``id``); ``POST .../toggle_status`` with ``{"status": "open"}`` moves the conversation
    from the bot (``pending``) to the agents. Chatwoot sends free text: a template (which
    only WhatsApp's window needs, and Chatwoot has none for us) is refused; a media URL goes
    as a link under the text.

    Built even when Chatwoot is not configured (the container makes every channel): every
    call then fails as unavailable, before any request.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        base_url: str,
        account_id: int | str,
        api_access_token: str,
    ) -> None:
        account = str(account_id).strip()
        self._client = client
        self._configured = bool(base_url and account and api_access_token)
        self._conversations = (
            f"{api_root(base_url)}/api/v1/accounts/{quote(account, safe='')}/conversations"
        )
        self._headers = {"api_access_token": api_access_token}

    async def send(self, message: Outbound) -> str:
        thread = conversation_number(message.thread)
        content = _content(message)
        payload = {"content": content, "message_type": "outgoing", "private": False}
        answer = await self._post(f"{thread}/messages", payload, "sending")
        raw_id = answer.get("id")
        if not isinstance(raw_id, int | str) or isinstance(raw_id, bool) or not str(raw_id):
            raise ExternalServiceUnavailable(SERVICE, "the send was answered without a message id")
        return str(raw_id)

    async def hand_off(self, thread: str | None) -> None:
        if thread is None:
            logger.warning("a Chatwoot hand-off without a conversation: nothing to open")
            return
        await self._post(
            f"{conversation_number(thread)}/toggle_status", {"status": "open"}, "handing off"
        )

    async def _post(self, path: str, payload: dict[str, Any], action: str) -> dict[str, Any]:
        if not self._configured:
            logger.error("Chatwoot has no URL, account id or access token configured")
            raise ExternalServiceUnavailable(SERVICE, "Chatwoot is not configured")
        try:
            response = await self._client.post(
                f"{self._conversations}/{path}",
                json=payload,
                headers=self._headers,
                follow_redirects=False,
            )
        except httpx.TimeoutException as error:
            raise ExternalServiceUnavailable(SERVICE, f"{action} timed out") from error
        except httpx.RequestError as error:
            raise ExternalServiceUnavailable(
                SERVICE, f"{action} failed: {type(error).__name__}"
            ) from error
        answer = json_object(response)
        if not response.is_success:
            raise failure(response, answer, action)
        if answer is None:
            raise ExternalServiceUnavailable(SERVICE, f"{action} was answered without JSON")
        return answer


def conversation_number(thread: str | None) -> str:
    """A Chatwoot conversation number; anything else would not name one in the path."""
    if thread is None:
        raise DeliveryRefused(SERVICE, None, "a Chatwoot message needs its conversation")
    if not (thread.isascii() and thread.isdigit()):
        raise DeliveryRefused(SERVICE, None, f"{thread[:50]!r} is not a Chatwoot conversation")
    return thread


def _content(message: Outbound) -> str:
    if message.template is not None or message.type is MessageType.TEMPLATE:
        raise DeliveryRefused(SERVICE, None, "Chatwoot takes free text, not a template")
    parts = [p for p in (message.text, message.media_url) if p and p.strip()]
    if not parts:
        raise DeliveryRefused(SERVICE, None, f"a {message.type.value} message without text")
    return "\n".join(parts)


def failure(response: httpx.Response, answer: dict[str, Any] | None, action: str) -> TaliaError:
    status = response.status_code
    described = _describe(answer) or f"HTTP {status}"
    if 400 <= status < 500 and status not in _UNAVAILABLE:
        return DeliveryRefused(SERVICE, str(status), described)
    if status in (401, 402, 403):
        logger.error(
            "Chatwoot refused the access token, account or bot (%s, HTTP %s): %s",
            action,
            status,
            described,
        )
    return ExternalServiceUnavailable(
        SERVICE,
        f"{action} answered HTTP {status}: {described}",
        retry_after_seconds=retry_after(response),
    )


def _describe(answer: dict[str, Any] | None) -> str | None:
    if answer is None:
        return None
    for field in ("error", "message"):
        text = wire.text(answer.get(field))
        if text is not None:
            return text[:_MAX_ERROR_TEXT]
    errors = answer.get("errors")
    if isinstance(errors, list) and errors:
        return "; ".join(str(e) for e in errors)[:_MAX_ERROR_TEXT]
    return None
