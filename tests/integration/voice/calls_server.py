"""A local stand-in for Twilio's call-update API, over real HTTP on loopback.

``POST /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json`` with HTTP Basic auth and a
form carrying ``Twiml`` (or ``Url``) answers 200 with the Call resource as JSON; a call it
does not know answers Twilio's 404 error JSON (code 20404), as a call that has ended does.
(https://www.twilio.com/docs/voice/api/call-resource#update-a-call-resource)
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from tests.fakeserver import LocalServer, Recorded, Reply
from tests.integration.channels.twilio_server import API_VERSION, basic_auth, twilio_error

_CALL = re.compile(rf"/{API_VERSION}/Accounts/(AC\w+)/Calls/(CA\w+)\.json")


class FakeTwilioCalls(LocalServer):
    def __init__(self, account_sid: str, auth_token: str, host: str = "127.0.0.1") -> None:
        super().__init__(host)
        self.account_sid = account_sid
        self._auth = basic_auth(account_sid, auth_token)
        self.live: set[str] = set()
        self.updated: list[tuple[str, str]] = []  # (CallSid, the TwiML it was given)
        self.was_updated = asyncio.Event()

    def answer(self, request: Recorded) -> Reply:
        if request.headers.get("authorization") != self._auth:
            return Reply(401, twilio_error(20003, "Authenticate", 401))
        found = _CALL.fullmatch(request.path)
        if request.method != "POST" or found is None or found[1] != self.account_sid:
            return Reply(404, twilio_error(20404, f"{request.path} was not found", status=404))
        call = found[2]
        if call not in self.live:
            return Reply(404, twilio_error(20404, f"The call {call} was not found", status=404))
        form = request.form()
        if not (form.get("Twiml") or form.get("Url")):
            return Reply(400, twilio_error(21205, "Url or Twiml is required"))
        self.updated.append((call, form.get("Twiml", "")))
        self.was_updated.set()
        return Reply(200, self._call(call))

    def _call(self, call: str) -> dict[str, Any]:
        return {
            "sid": call,
            "account_sid": self.account_sid,
            "status": "in-progress",
            "api_version": API_VERSION,
            "uri": f"/{API_VERSION}/Accounts/{self.account_sid}/Calls/{call}.json",
        }
