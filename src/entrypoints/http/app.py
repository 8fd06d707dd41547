"""The Litestar application factory: routes, guards, errors, observability, lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme

from entrypoints.container import Container
from entrypoints.http import feedback, identity
from entrypoints.http.auth import AuthenticationMiddleware, provide_principal
from entrypoints.http.errors import EXCEPTION_HANDLERS
from entrypoints.http.health import health_controller
from entrypoints.http.observability import Metrics, ObservabilityMiddleware, metrics_route
from talia_core.identity.model import Principal


def create_app(container: Container) -> Litestar:
    """An app over ``container``; its resources open and close with the app's lifespan."""
    settings = container.settings()
    board = container.gateways.breakers()
    metrics = Metrics(board.snapshots)
    use_cases = container.use_cases

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        await container.init_resources()
        try:
            yield
        finally:
            await container.shutdown_resources()

    async def authenticate(token: str) -> Principal:
        return await use_cases.auth().authenticate(token)

    async def record_admin_write(
        principal: Principal, action: str, target: str, ip: str, agent: str
    ) -> None:
        await use_cases.users().record_admin_write(
            principal, action=action, target=target, ip=ip, user_agent=agent
        )

    def provide(name: str) -> Provide:
        provider = getattr(use_cases, name)
        return Provide(lambda: provider(), sync_to_thread=False)

    dependencies: dict[str, Any] = {
        "principal": Provide(provide_principal),
        "feedback": provide("feedback"),
        "auth": provide("auth"),
        "users": provide("users"),
    }
    return Litestar(
        route_handlers=[
            health_controller(container.gateways.probes(), board.snapshots),
            metrics_route(metrics),
            *identity.CONTROLLERS,
            *feedback.CONTROLLERS,
        ],
        dependencies=dependencies,
        middleware=[
            ObservabilityMiddleware(metrics),
            AuthenticationMiddleware(
                authenticate,
                record_admin_write,
                frozenset(settings.http.trusted_proxies),
            ),
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=[lifespan],
        cors_config=CORSConfig(
            allow_origins=settings.http.cors_origins,
            allow_credentials=False,
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
            expose_headers=["X-Request-ID", "Retry-After", "ETag"],
        )
        if settings.http.cors_origins
        else None,
        request_max_body_size=settings.http.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="Talia",
            version="0.1.0",
            description="Talk to customers and sell to them: the HTTP API.",
            path="/schema",
            components=Components(
                security_schemes={
                    "bearer": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")
                }
            ),
            security=[{"bearer": []}],
        ),
        debug=False,
    )
