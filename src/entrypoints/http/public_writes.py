"""A limit on anonymous writes: every public route that takes a write (a web chat session
or message, a contact message, a claim, a registration, an RSVP, and any public route added
later) answers 429 with ``Retry-After`` past ``limit`` requests a minute from one client.

The client is its address (as the nearest untrusted hop saw it, ``auth.client_address``),
and its bearer token when it sends one: each web chat session counts apart. Routes marked
``NOT_LIMITED`` are left alone: providers' callbacks (webhooks, payment notifications come
signed, from a few addresses, in bursts) and the sign-in routes, which have a throttle of
their own (``LoginThrottle``). Counts live in the attempt store: in memory, or Redis shared
by every worker when configured.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from litestar.enums import ScopeType
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import ASGIMiddleware
from litestar.types import (
    ASGIApp,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    Receive,
    Scope,
    Send,
)

from entrypoints.http.auth import MUTATING, bearer_token, client_address, public
from talia_core.identity.ports import AttemptStore

NOT_LIMITED: dict[str, Any] = {"public_write_limit": False}
"""The ``opt`` of a public route this limit leaves alone."""
WINDOW_SECONDS = 60


class PublicWriteLimit(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    def __init__(self, store: AttemptStore, limit: int, trusted_proxies: frozenset[str]) -> None:
        self._store = store
        self._limit = limit
        self._trusted = trusted_proxies

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        handler = scope.get("route_handler")
        method = scope["method"] if scope["type"] == ScopeType.HTTP else "GET"
        if (
            self._limit <= 0
            or method not in MUTATING
            or not isinstance(handler, BaseRouteHandler)
            or not _limited(handler)
        ):
            await next_app(scope, receive, send)
            return
        window = await self._store.hit(self._key(scope, handler), window_seconds=WINDOW_SECONDS)
        if window.count <= self._limit:
            await next_app(scope, receive, send)
            return
        await _too_many(scope, send, window.resets_in_seconds)

    def _key(self, scope: Scope, handler: BaseRouteHandler) -> str:
        caller = client_address(scope, self._trusted)
        token = bearer_token(scope)
        if token:
            caller += ":" + hashlib.sha256(token.encode()).hexdigest()[:32]
        return f"public-write:{handler.handler_id}:{caller}"


def _limited(handler: BaseRouteHandler) -> bool:
    guarded_public = any(public in (layer.guards or ()) for layer in handler.ownership_layers)
    return guarded_public and handler.opt.get("public_write_limit", True)


async def _too_many(scope: Scope, send: Send, retry_after: int) -> None:
    wait = max(1, retry_after)
    body = json.dumps(
        {
            "type": "about:blank",
            "status": 429,
            "title": "Too many requests",
            "detail": f"too many requests from this client; try again in {wait} s",
            "instance": scope["path"],
        }
    ).encode()
    headers = [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", str(wait).encode()),
    ]
    start: HTTPResponseStartEvent = {
        "type": "http.response.start",
        "status": 429,
        "headers": headers,
    }
    end: HTTPResponseBodyEvent = {"type": "http.response.body", "body": body, "more_body": False}
    await send(start)
    await send(end)
