"""Chatwoot's conversations API as the sender and the agents' desk call it.

Calls carry the bot's (or an agent's) access token in the ``api_access_token`` header.
Chatwoot answers errors as ``{"error": ...}`` or ``{"message": ..., "attributes": [...]}``
(``RequestExceptionHandler``). 404 (no such conversation) and 422 and other refusals of the
request itself are a ``DeliveryRefused`` named by the HTTP status; 401, 402, 403 (our token,
account or the bot's access: an operator acts, then the job retries), 408, 429, 5xx,
timeouts and connection errors are ``ExternalServiceUnavailable``. Built even when Chatwoot
is not configured (the container makes every channel): every call then fails as
unavailable, before any request.
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
from talia_core.shared.errors import ExternalServiceUnavailable, TaliaError

logger = logging.getLogger("talia.chatwoot")

_MAX_ERROR_TEXT = 500
# Answers about our token, account or the bot's access, or about load: worth a retry.
_UNAVAILABLE = frozenset({401, 402, 403, 408, 429})


class ChatwootConversations:
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

    async def _call(
        self, method: str, path: str, payload: dict[str, Any] | None, action: str
    ) -> dict[str, Any]:
        if not self._configured:
            logger.error("Chatwoot has no URL, account id or access token configured")
            raise ExternalServiceUnavailable(SERVICE, "Chatwoot is not configured")
        try:
            response = await self._client.request(
                method,
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
