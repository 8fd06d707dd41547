"""``CallTransfers`` on Twilio's call-update API: the call's TwiML is replaced by a
``<Dial>`` to the number people answer."""

from __future__ import annotations

import logging

import httpx

from adapters.channels.twilio import SERVICE
from adapters.channels.twilio_voice.twiml import dial
from adapters.channels.wire import retry_after
from talia_core.shared.errors import CapabilityNotConfigured, ExternalServiceUnavailable

logger = logging.getLogger("talia.twilio")


class TwilioCallTransfers:
    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        account_sid: str,
        auth_token: str,
        number: str,
        base_url: str = "https://api.twilio.com",
    ) -> None:
        self._client = client
        self._account_sid = account_sid
        self._auth = httpx.BasicAuth(account_sid, auth_token)
        self._configured = bool(account_sid and auth_token)
        self._number = number
        self._base = f"{base_url.rstrip('/')}/2010-04-01/Accounts/{account_sid}/Calls"

    async def transfer(self, call_id: str) -> None:
        if not self._number:
            raise CapabilityNotConfigured(
                "call transfer", "no number is set to put calls through to"
            )
        if not self._configured:
            raise ExternalServiceUnavailable(SERVICE, "Twilio is not configured")
        try:
            response = await self._client.post(
                f"{self._base}/{call_id}.json",
                data={"Twiml": dial(self._number)},
                auth=self._auth,
                follow_redirects=False,
            )
        except httpx.TimeoutException as error:
            raise ExternalServiceUnavailable(SERVICE, "the transfer timed out") from error
        except httpx.RequestError as error:
            raise ExternalServiceUnavailable(
                SERVICE, f"the transfer failed: {type(error).__name__}"
            ) from error
        if response.status_code == 200:
            return
        logger.error("Twilio refused to transfer call %s: HTTP %s", call_id, response.status_code)
        raise ExternalServiceUnavailable(
            SERVICE,
            f"Twilio answered HTTP {response.status_code} to the transfer",
            retry_after_seconds=retry_after(response),
        )
