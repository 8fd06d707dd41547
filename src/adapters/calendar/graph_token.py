"""An app-only access token for Microsoft Graph: the OAuth 2.0 client-credentials grant.

``POST {authority}/{tenant}/oauth2/v2.0/token`` with the form ``client_id``,
``client_secret``, ``scope=https://graph.microsoft.com/.default`` and
``grant_type=client_credentials`` answers ``{"token_type": "Bearer", "expires_in",
"access_token"}``, or ``{"error", "error_description": "AADSTS…", "error_codes"}``. The
token is kept until shortly before it expires; concurrent callers share one request.

MSAL is not used: its ``ConfidentialClientApplication`` is synchronous (``requests``), so it
would bypass the shared httpx client, and it only accepts ``https`` authorities.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import httpx

from adapters.calendar.graph_wire import SERVICE, shortened
from adapters.channels.wire import json_object, retry_after
from talia_core.shared.errors import ExternalServiceUnavailable

logger = logging.getLogger("talia.calendar")

AUTHORITY = "https://login.microsoftonline.com"
GRAPH_SCOPE = "https://graph.microsoft.com/.default"
# Renewed this long before Entra ID says it expires, so no request leaves with a token that
# dies on the way (a token lives 60 to 90 minutes).
_EARLY_SECONDS = 300.0


class ClientCredentialsToken:
    """The bearer token of one app registration in one tenant."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        tenant_id: str,
        client_id: str,
        client_secret: str,
        authority: str = AUTHORITY,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if not authority.startswith(("https://", "http://")):
            raise ValueError("the Microsoft Entra authority must start with https://")
        self._client = client
        self._url = f"{authority.rstrip('/')}/{tenant_id}/oauth2/v2.0/token"
        self._form = {
            "client_id": client_id,
            "client_secret": client_secret,
            "scope": GRAPH_SCOPE,
            "grant_type": "client_credentials",
        }
        self._configured = bool(tenant_id and client_id and client_secret)
        self._monotonic = monotonic
        self._token = ""
        self._expires_at = 0.0
        self._lock = asyncio.Lock()

    async def bearer(self) -> str:
        """A token valid for a while yet, asking Entra ID for one only when needed."""
        async with self._lock:
            if not self._token or self._monotonic() >= self._expires_at:
                self._token, lifetime = await self._request()
                self._expires_at = self._monotonic() + max(lifetime - _EARLY_SECONDS, 0.0)
            return self._token

    def forget(self, token: str) -> None:
        """Graph refused ``token`` (revoked, or expired early): the next call gets a new one."""
        if token == self._token:
            self._token = ""

    async def _request(self) -> tuple[str, float]:
        if not self._configured:
            logger.error("Outlook is not configured: its tenant, client id or secret is empty")
            raise ExternalServiceUnavailable(
                SERVICE,
                "not configured (TALIA_OUTLOOK__TENANT_ID, __CLIENT_ID or __CLIENT_SECRET "
                "is empty)",
            )
        try:
            response = await self._client.post(self._url, data=self._form)
        except httpx.TimeoutException as error:
            raise ExternalServiceUnavailable(SERVICE, "the token endpoint timed out") from error
        except httpx.RequestError as error:
            raise ExternalServiceUnavailable(
                SERVICE, f"the token endpoint is unreachable: {type(error).__name__}"
            ) from error
        body = json_object(response) or {}
        if response.status_code == 429 or response.status_code >= 500:
            raise ExternalServiceUnavailable(
                SERVICE,
                f"the token endpoint answered HTTP {response.status_code}",
                retry_after(response),
            )
        token, lifetime = body.get("access_token"), body.get("expires_in")
        if response.status_code == 200 and isinstance(token, str) and token:
            return token, _seconds(lifetime)
        # invalid_client (a wrong secret, AADSTS7000215), unauthorized_client (no such app in
        # the tenant, AADSTS700016), invalid_request (no such tenant, AADSTS90002) ...
        kind = body.get("error") if isinstance(body.get("error"), str) else "unreadable answer"
        description = body.get("error_description")
        reason = description.splitlines()[0] if isinstance(description, str) else ""
        described = shortened(f"{kind}: {reason}" if reason else str(kind))
        logger.error(
            "Microsoft Entra ID refused Talia's app credentials (HTTP %s): %s",
            response.status_code,
            described,
        )
        raise ExternalServiceUnavailable(
            SERVICE, f"the app's credentials were refused by Microsoft Entra ID: {described}"
        )


def _seconds(value: object) -> float:
    """``expires_in`` is a number of seconds (sent as a string by the v1 endpoint)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str) and value.isdigit():
        return float(value)
    return 0.0
