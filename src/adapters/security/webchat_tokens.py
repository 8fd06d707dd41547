"""Web chat session tokens: signed, self-contained, so any API worker can check them.

A token is ``<payload>.<signature>``: the payload is base64url JSON with the session id,
the visitor's name and the expiry; the signature an HMAC-SHA256 of the payload's text.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import attrs

from talia_core.shared.errors import Unauthorized
from talia_core.shared.ids import new_id

MAX_TOKEN_LENGTH = 1024


@attrs.frozen
class WebChatSession:
    session_id: str
    name: str | None
    expires_at: datetime


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class WebChatTokens:
    def __init__(self, secret: bytes, lifetime: timedelta) -> None:
        # A key of its own, so a web chat token can never pass for another kind of token.
        self._key = hmac.new(secret, b"talia webchat session", hashlib.sha256).digest()
        self._lifetime = lifetime

    def issue(self, name: str | None, now: datetime) -> tuple[WebChatSession, str]:
        session = WebChatSession(new_id(), name, now + self._lifetime)
        payload = _encode(
            json.dumps(
                {"s": session.session_id, "n": name, "e": int(session.expires_at.timestamp())},
                separators=(",", ":"),
            ).encode()
        )
        return session, f"{payload}.{self._sign(payload)}"

    def read(self, token: str | None, now: datetime) -> WebChatSession:
        """The session a token opens; ``Unauthorized`` when forged, garbled or expired."""
        if not token or len(token) > MAX_TOKEN_LENGTH or token.count(".") != 1:
            raise Unauthorized("a web chat session token is needed")
        payload, signature = token.split(".")
        if not hmac.compare_digest(signature, self._sign(payload)):
            raise Unauthorized("the web chat session token is not valid")
        try:
            data = json.loads(_decode(payload))
            session = WebChatSession(
                str(data["s"]), data.get("n"), datetime.fromtimestamp(int(data["e"]), UTC)
            )
        except (ValueError, KeyError, TypeError):
            raise Unauthorized("the web chat session token is not valid") from None
        if session.expires_at <= now:
            raise Unauthorized("the web chat session has expired; start a new one")
        return session

    def _sign(self, payload: str) -> str:
        return _encode(hmac.new(self._key, payload.encode("ascii"), hashlib.sha256).digest())
