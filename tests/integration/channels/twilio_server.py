"""Local stand-ins for Twilio, speaking its wire format over real HTTP on loopback.

``FakeTwilio`` is the REST API: ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json``
with HTTP Basic auth and a form body, answered 201 with the Message resource as JSON, or
with Twilio's error JSON ``{"code", "message", "more_info", "status"}``; and the media of
incoming messages, ``GET .../Messages/{MessageSid}/Media/{MediaSid}``, answered with a
redirect to the CDN. ``FakeMediaHost`` is that CDN: it serves files to anyone, with no
credentials. Both are ``tests.fakeserver.LocalServer``: they record every request and can be
told what to answer next.

Shapes follow Twilio's Message resource reference and its error dictionary
(https://www.twilio.com/docs/messaging/api/message-resource, /docs/api/errors).
"""

from __future__ import annotations

import base64
import json
import re
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from tests.fakeserver import LocalServer, Recorded, Reply

API_VERSION = "2010-04-01"
_ADDRESS = re.compile(r"whatsapp:\+[1-9]\d{6,14}")


def basic_auth(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def twilio_error(code: int, message: str, status: int = 400) -> dict[str, Any]:
    """A REST API exception, as Twilio answers it."""
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


class FakeMediaHost(LocalServer):
    """A CDN: files by path, to anyone; a path may redirect instead."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        super().__init__(host)
        self.files: dict[str, tuple[bytes, str | None]] = {}
        self.moved: dict[str, str] = {}

    def put(self, path: str, content: bytes, content_type: str | None) -> str:
        self.files[path] = (content, content_type)
        return self.base_url + path

    def answer(self, request: Recorded) -> Reply:
        if request.path in self.moved:
            return Reply(307, b"", {"Location": self.moved[request.path]})
        if request.method != "GET" or request.path not in self.files:
            return Reply(404, b"<Error><Code>NoSuchKey</Code></Error>")
        content, content_type = self.files[request.path]
        return Reply(200, content, {"Content-Type": content_type} if content_type else {})


class FakeTwilio(LocalServer):
    """Twilio's REST API for one account: Messages, and the media of incoming messages."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        cdn: FakeMediaHost | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        super().__init__(host)
        self.account_sid = account_sid
        self._auth = basic_auth(account_sid, auth_token)
        self._cdn = cdn
        self.unsubscribed: set[str] = set()
        self.media: dict[str, str] = {}  # media path on this server -> its CDN URL
        self.created: list[dict[str, str]] = []  # the form of every message Twilio took
        self.now: Callable[[], datetime] = lambda: datetime.now(UTC)

    @property
    def messages_path(self) -> str:
        return f"/{API_VERSION}/Accounts/{self.account_sid}/Messages.json"

    def add_media(self, content: bytes, content_type: str | None) -> str:
        """An incoming message's attachment: its ``MediaUrl`` (on this server), held by the CDN."""
        if self._cdn is None:
            raise RuntimeError("FakeTwilio needs a media host to hold media")
        message, media = _sid("MM"), _sid("ME")
        path = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{message}/Media/{media}"
        self.media[path] = self._cdn.put(f"/{self.account_sid}/{media}", content, content_type)
        return self.base_url + path

    def answer(self, request: Recorded) -> Reply:
        if request.headers.get("authorization") != self._auth:
            return Reply(401, twilio_error(20003, "Authenticate", 401))
        if request.method == "GET" and request.path in self.media:
            # Twilio answers a media URL with a redirect to the file on its CDN.
            return Reply(307, b"", {"Location": self.media[request.path]})
        if request.method == "POST" and request.path == self.messages_path:
            return self._create_message(request.form())
        return Reply(
            404,
            twilio_error(20404, f"The requested resource {request.path} was not found", status=404),
        )

    def _create_message(self, form: dict[str, str]) -> Reply:
        to, sender = form.get("To", ""), form.get("From", "")
        if not to:
            return Reply(400, twilio_error(21604, "A 'To' phone number is required."))
        if not _ADDRESS.fullmatch(to):
            return Reply(400, twilio_error(21211, f"Invalid 'To' Phone Number: {to}"))
        if not sender:
            return Reply(400, twilio_error(21603, "A 'From' phone number is required."))
        if not (form.get("Body") or form.get("MediaUrl") or form.get("ContentSid")):
            return Reply(
                400, twilio_error(21619, "A text message body or media urls must be specified.")
            )
        if "ContentVariables" in form and not _json_object(form["ContentVariables"]):
            return Reply(400, twilio_error(21656, "The ContentVariables Parameter is invalid."))
        if to in self.unsubscribed:
            return Reply(400, twilio_error(21610, "Attempt to send to unsubscribed recipient"))
        self.created.append(form)
        return Reply(201, self._message(form, to, sender))

    def _message(self, form: dict[str, str], to: str, sender: str) -> dict[str, Any]:
        sid = _sid("MM" if form.get("MediaUrl") else "SM")
        created = format_datetime(self.now(), usegmt=True)
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}"
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": form.get("Body", ""),
            "date_created": created,
            "date_sent": None,
            "date_updated": created,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": sender,
            "messaging_service_sid": None,
            "num_media": "1" if form.get("MediaUrl") else "0",
            "num_segments": "1",
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "queued",
            "subresource_uris": {"media": f"{uri}/Media.json"},
            "to": to,
            "uri": f"{uri}.json",
        }


def _sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


def _json_object(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False
