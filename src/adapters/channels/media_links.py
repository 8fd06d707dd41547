"""Public links to our own files (voice replies), unguessable without the key.

A link's token is the file key, base64url-encoded, and an HMAC-SHA256 of it (128 bits):
anyone holding the link may fetch the file (Twilio does, a web chat visitor's browser
does), nobody can make a link to another file.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

MEDIA_PATH = "/api/conversations/media"
_SIGNATURE_CHARS = 32
MAX_TOKEN_LENGTH = 1000


class SignedMediaLinks:
    """``base_url``: the scheme and host providers reach us at; empty: links are paths on
    this host (enough for the web chat, not for Twilio)."""

    def __init__(self, key: bytes, *, base_url: str = "") -> None:
        if len(key) < 32:
            raise ValueError("a media link key has at least 32 bytes")
        self._key = key
        self._base = base_url.rstrip("/")

    def link(self, file_key: str) -> str:
        name = base64.urlsafe_b64encode(file_key.encode()).decode().rstrip("=")
        return f"{self._base}{MEDIA_PATH}/{name}.{self._signature(name)}"

    def file_key(self, token: str) -> str | None:
        name, dot, signature = token.rpartition(".")
        if not dot or len(token) > MAX_TOKEN_LENGTH:
            return None
        if not hmac.compare_digest(signature.encode(), self._signature(name).encode()):
            return None
        try:
            return base64.urlsafe_b64decode(name + "=" * (-len(name) % 4)).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None

    def _signature(self, name: str) -> str:
        digest = hmac.new(self._key, name.encode(), hashlib.sha256).hexdigest()
        return digest[:_SIGNATURE_CHARS]
