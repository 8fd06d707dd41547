"""Access tokens as HMAC-signed JWTs (PyJWT)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import jwt

from talia_core.identity.model import AccessClaims, Principal, Role
from talia_core.shared.errors import Unauthorized

# RFC 7518 section 3.2: an HMAC key at least as long as the hash output.
MIN_SECRET_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64}
TOKEN_TYPE = "access"
_REQUIRED = ["exp", "iat", "iss", "sub", "sid", "role", "typ"]


class JwtAccessTokens:
    """Only the configured algorithm is accepted, never ``none``; expiry is checked against
    the injected ``now`` so the clock under test decides, with ``leeway_seconds`` of slack."""

    def __init__(
        self,
        secret: str,
        *,
        issuer: str,
        algorithm: str = "HS256",
        audience: str | None = None,
        leeway_seconds: int = 10,
    ) -> None:
        if algorithm not in MIN_SECRET_BYTES:
            raise ValueError(f"algorithm must be one of {sorted(MIN_SECRET_BYTES)}")
        if len(secret.encode()) < MIN_SECRET_BYTES[algorithm]:
            minimum = MIN_SECRET_BYTES[algorithm]
            raise ValueError(f"the JWT secret must be at least {minimum} bytes for {algorithm}")
        self._secret = secret
        self._algorithm = algorithm
        self._issuer = issuer
        self._audience = audience
        self._leeway = leeway_seconds

    def issue(self, principal: Principal, *, now: datetime, lifetime: timedelta) -> str:
        issued_at = int(now.timestamp())
        claims: dict[str, Any] = {
            "iss": self._issuer,
            "sub": principal.user_id,
            "sid": principal.session_id,
            "role": principal.role.value,
            "typ": TOKEN_TYPE,
            "iat": issued_at,
            "exp": issued_at + int(lifetime.total_seconds()),
        }
        if self._audience is not None:
            claims["aud"] = self._audience
        return jwt.encode(claims, self._secret, algorithm=self._algorithm)

    def read(self, token: str, *, now: datetime) -> AccessClaims:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[self._algorithm],
                issuer=self._issuer,
                audience=self._audience,
                options={
                    "require": _REQUIRED,
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                },
            )
        except jwt.PyJWTError as error:
            raise Unauthorized(f"invalid access token: {error}") from None
        if claims["typ"] != TOKEN_TYPE:
            raise Unauthorized("invalid access token: not an access token")
        expires, issued = claims["exp"], claims["iat"]
        if not isinstance(expires, int) or not isinstance(issued, int):
            raise Unauthorized("invalid access token: malformed time claims")
        instant = now.timestamp()
        if instant > expires + self._leeway:
            raise Unauthorized("the access token has expired")
        if issued > instant + self._leeway:
            raise Unauthorized("invalid access token: issued in the future")
        try:
            return AccessClaims(
                user_id=str(claims["sub"]), session_id=str(claims["sid"]), role=Role(claims["role"])
            )
        except ValueError:
            raise Unauthorized("invalid access token: unknown role") from None
