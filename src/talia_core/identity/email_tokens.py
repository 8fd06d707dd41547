"""Single-use tokens mailed to a user: to verify their address, or to reset their password.

Only the token's SHA-256 is stored, so a leaked table gives no usable link. A token is
redeemed by one conditional update (unused and unexpired), so of two requests presenting
it at once exactly one succeeds.
"""

from __future__ import annotations

import enum
import secrets
from datetime import datetime, timedelta

import attrs

from talia_core.identity.model import hash_refresh_token as hash_token
from talia_core.shared.ids import new_id

MAX_TOKEN_LENGTH = 100
"""A token as mailed is 43 characters; anything longer than this is no token of ours."""


class TokenPurpose(enum.StrEnum):
    VERIFY_EMAIL = "verify_email"
    RESET_PASSWORD = "reset_password"


@attrs.frozen
class EmailToken:
    user_id: str
    purpose: TokenPurpose
    token_hash: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    id: str = attrs.field(factory=new_id)

    @classmethod
    def issue(
        cls, user_id: str, purpose: TokenPurpose, *, at: datetime, lifetime: timedelta
    ) -> tuple[EmailToken, str]:
        """A new token for ``user_id`` and the secret to mail (256 random bits)."""
        secret = secrets.token_urlsafe(32)
        token = cls(
            user_id=user_id,
            purpose=purpose,
            token_hash=hash_token(secret),
            created_at=at,
            expires_at=at + lifetime,
        )
        return token, secret


__all__ = ["MAX_TOKEN_LENGTH", "EmailToken", "TokenPurpose", "hash_token"]
