"""The token our voice webhook hands Twilio for the call's stream: the only way a stream
is accepted. It signs (HMAC-SHA256) the call, the caller's number and when it expires; a
stream whose ``start`` carries no token, another call's, an expired or a forged one, or
another number, is refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import timedelta

from talia_core.shared.clock import Clock

MAX_TOKEN_LENGTH = 200


class StreamTokens:
    def __init__(self, secret: bytes, clock: Clock, *, lifetime: timedelta) -> None:
        if not secret:
            raise ValueError("stream tokens need a secret")
        self._key = hmac.new(secret, b"talia voice stream", hashlib.sha256).digest()
        self._clock = clock
        self._lifetime = lifetime

    def mint(self, call_id: str, caller: str) -> str:
        expires = int((self._clock.now() + self._lifetime).timestamp())
        return f"{expires}.{self._signature(call_id, caller, expires)}"

    def valid(self, token: str | None, call_id: str, caller: str) -> bool:
        """Whether ``token`` was minted for this call from this number and is still good."""
        if not token or len(token) > MAX_TOKEN_LENGTH or not call_id:
            return False
        expires_text, _, signature = token.partition(".")
        if not expires_text.isdigit():
            return False
        expires = int(expires_text)
        expected = self._signature(call_id, caller, expires)
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            return False
        return self._clock.now().timestamp() < expires

    def _signature(self, call_id: str, caller: str, expires: int) -> str:
        signed = f"{call_id}\n{caller}\n{expires}".encode()
        digest = hmac.new(self._key, signed, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
