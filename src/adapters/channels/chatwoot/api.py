"""Where Chatwoot's API is, checked once at start."""

from __future__ import annotations

import httpx

SERVICE = "chatwoot"


def api_url(base_url: str) -> httpx.URL:
    if not base_url.startswith(("https://", "http://")):
        raise ValueError(f"a Chatwoot URL must start with https://, not {base_url[:30]!r}")
    return httpx.URL(base_url)


def api_root(base_url: str) -> str:
    """The URL Chatwoot's API is under (it may sit below a path); empty when unconfigured."""
    if not base_url:
        return ""
    api_url(base_url)
    return base_url.rstrip("/")
