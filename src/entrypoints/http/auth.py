"""Who is calling: bearer-token authentication, route guards and the admin-write audit."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import attrs
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from talia_core.identity.model import (
    MAX_IP_LENGTH,
    MAX_TARGET_LENGTH,
    AuditAction,
    Principal,
    Role,
)
from talia_core.shared.errors import Forbidden, Unauthorized

logger = logging.getLogger("talia.http")

Authenticate = Callable[[str], Awaitable[Principal]]
RecordAdminWrite = Callable[[Principal, str, str, str, str], Awaitable[None]]
Guard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], Awaitable[None]]

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
USER_AGENT_KEPT = 255
AUTH_ERROR = "talia.auth_error"


def bearer_token(scope: Scope) -> str | None:
    # Read from the raw headers: building Litestar's header map costs more than the lookup.
    header = next(
        (value.decode("latin-1") for name, value in scope["headers"] if name == b"authorization"),
        None,
    )
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("the Authorization header must be 'Bearer <access token>'")
    return token.strip()


def client_address(scope: Scope, trusted_proxies: frozenset[str]) -> str:
    """The address of the client as the nearest untrusted hop saw it.

    Each trusted proxy appends the address it received from to X-Forwarded-For, so the
    header is read from the right: trusted hops are skipped and the first untrusted one is
    the client (anything left of it was written by the client and proves nothing).
    """
    client = scope.get("client")
    address = client[0] if client else "unknown"
    if address not in trusted_proxies:
        return address
    forwarded = [
        hop.strip()
        for name, value in scope["headers"]
        if name == b"x-forwarded-for"
        for hop in value.decode("latin-1").split(",")
    ]
    for hop in reversed(forwarded):
        try:
            hop_address = str(ipaddress.ip_address(hop))
        except ValueError:
            break
        if len(hop_address) > MAX_IP_LENGTH:  # an IPv6 scope id may be of any length
            break
        address = hop_address
        if address not in trusted_proxies:
            break
    return address


@attrs.frozen
class Client:
    """Where a request comes from, for sessions, throttling and the audit log."""

    ip: str
    user_agent: str


def client_provider(trusted_proxies: frozenset[str]) -> Callable[[Request[Any, Any, Any]], Client]:
    def provide_client(request: Request[Any, Any, Any]) -> Client:
        return Client(
            ip=client_address(request.scope, trusted_proxies), user_agent=user_agent(request.scope)
        )

    return provide_client


def user_agent(scope: Scope) -> str:
    """The client's User-Agent, only ever recorded (sessions, the audit log): it is kept
    shortened to ``USER_AGENT_KEPT`` characters on purpose rather than refused."""
    for name, value in scope["headers"]:
        if name == b"user-agent":
            # Printable only: PostgreSQL cannot store the NUL a client may send.
            printable = "".join(c for c in value.decode("latin-1") if c.isprintable())
            return printable[:USER_AGENT_KEPT]
    return ""


class AuthenticationMiddleware(ASGIMiddleware):
    """Puts the caller's ``Principal`` (or ``None``) in ``scope["user"]``.

    Anonymous calls pass through; guards decide. After a successful write by an admin
    the request is recorded in the audit log.
    """

    scopes = (ScopeType.HTTP, ScopeType.WEBSOCKET)

    def __init__(
        self,
        authenticate: Authenticate,
        record_admin_write: RecordAdminWrite,
        trusted_proxies: frozenset[str],
    ) -> None:
        self._authenticate = authenticate
        self._record = record_admin_write
        self._trusted = trusted_proxies

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        principal = None
        try:
            token = bearer_token(scope)
            principal = await self._authenticate(token) if token else None
        except Unauthorized as refused:
            # Kept for the guards: a public route (login, refresh) still answers a client
            # that sends a stale token; a protected one says why the token was refused.
            scope.setdefault("state", {})[AUTH_ERROR] = refused
            token = None
        scope["user"] = principal
        scope["auth"] = token
        method = scope["method"] if scope["type"] == ScopeType.HTTP else "GET"
        if principal is None or not principal.is_admin or method not in MUTATING:
            await next_app(scope, receive, send)
            return

        status = 0

        async def remember_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await next_app(scope, receive, remember_status)
        if 200 <= status < 400:
            try:
                await self._record(
                    principal,
                    AuditAction.ADMIN_WRITE,
                    # The path is the client's: the request line is recorded shortened.
                    f"{method} {scope['path']}"[:MAX_TARGET_LENGTH],
                    client_address(scope, self._trusted),
                    user_agent(scope),
                )
            except Exception:  # the write itself succeeded; the audit gap is logged loudly
                logger.exception("could not record an admin write in the audit log")


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    principal = connection.scope.get("user")
    if not isinstance(principal, Principal):
        refused = connection.scope.get("state", {}).get(AUTH_ERROR)
        raise refused or Unauthorized("this route needs a bearer access token")
    return principal


# Guards are coroutines: Litestar runs a synchronous guard in a worker thread.
async def public(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Anyone may call the route, signed in or not."""


async def signed_in(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    principal_of(connection)


def allow(*roles: Role) -> Guard:
    """Only callers with one of ``roles`` may call the route."""
    allowed = frozenset(roles)

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        if principal_of(connection).role not in allowed:
            names = ", ".join(sorted(role.value for role in allowed))
            raise Forbidden(f"this route is for: {names}")

    guard.__name__ = f"allow_{'_'.join(sorted(r.value for r in allowed))}"
    return guard


admin_only = allow(Role.ADMIN)
staff = allow(Role.ADMIN, Role.AGENT)
customer_or_admin = allow(Role.CUSTOMER, Role.ADMIN)


async def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    """The signed-in caller; a route using it is guarded, so it is always there."""
    return principal_of(request)
