"""Headers every answer carries so a browser holds it to what it is (OWASP's secure headers).

- ``X-Content-Type-Options: nosniff``: a JSON body or an uploaded file is never run as
  script or style;
- ``Referrer-Policy: no-referrer``: a guest's link (``/i/{slug}?g=TOKEN``) is not told to
  the map or the gift registry it links to;
- ``X-Frame-Options: DENY`` and CSP ``frame-ancestors 'none'``: no page is framed
  (clickjacking);
- ``Content-Security-Policy``: for HTML (the public invitation page, the web chat demo),
  scripts only from this origin or the pages' own inline scripts by their SHA-256; for
  everything else ``default-src 'none'``;
- ``Strict-Transport-Security`` when the request came over HTTPS (directly, or as a
  trusted proxy says in ``X-Forwarded-Proto``).

A header a route set itself is kept.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable
from pathlib import Path

from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)
ALWAYS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
)
NOT_HTML_POLICY = b"default-src 'none'; frame-ancestors 'none'"
HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")


def inline_script_hashes(pages: Iterable[Path]) -> list[str]:
    """CSP sources allowing the inline scripts of these pages, and only them."""
    found = []
    for page in pages:
        for script in _INLINE_SCRIPT.findall(page.read_text(encoding="utf-8")):
            digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
            found.append(f"'sha256-{digest}'")
    return sorted(set(found))


def html_policy(script_hashes: Iterable[str]) -> bytes:
    scripts = " ".join(["'self'", *script_hashes])
    return (
        "default-src 'self'; img-src 'self' data: https:; style-src 'self' 'unsafe-inline'; "
        f"script-src {scripts}; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    ).encode()


class SecurityHeaders(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    def __init__(self, html_policy: bytes, trusted_proxies: frozenset[str]) -> None:
        self._html_policy = html_policy
        self._trusted = trusted_proxies

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        secure = self._over_https(scope)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                html = any(
                    name.lower() == b"content-type" and value.startswith(b"text/html")
                    for name, value in headers
                )
                policy = self._html_policy if html else NOT_HTML_POLICY
                extra = [*ALWAYS, (b"content-security-policy", policy)]
                if secure:
                    extra.append(HSTS)
                headers.extend(h for h in extra if h[0] not in present)
                message["headers"] = headers
            await send(message)

        await next_app(scope, receive, with_headers)

    def _over_https(self, scope: Scope) -> bool:
        if scope.get("scheme") == "https":
            return True
        client = scope.get("client")
        if client is None or client[0] not in self._trusted:
            return False
        return any(
            name == b"x-forwarded-proto" and value.strip().lower() == b"https"
            for name, value in scope["headers"]
        )


def pages_policy() -> bytes:
    """The HTML policy for the pages this app serves: its templates and the web chat demo."""
    http = Path(__file__).parent
    pages = [*(http.parent / "templates").glob("*.html"), *(http / "webchat_static").glob("*.html")]
    return html_policy(inline_script_hashes(pages))
