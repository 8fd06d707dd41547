"""The Litestar application factory: routes, guards, errors, observability, lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, Request
from litestar.config.cors import CORSConfig
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme

from entrypoints.bootstrap import Talia
from entrypoints.container import (
    Container,
    close_resources,
    open_resources,
    start_jobs,
    stop_jobs,
)
from entrypoints.gateways import SANDBOX_PAY_PATH
from entrypoints.http import (
    ai,
    ai_socket,
    assistants,
    catalog,
    channels,
    commerce,
    conversations,
    feedback,
    identity,
    invitation_media,
    invitations,
    knowledge,
    leads,
    payments,
    public_invitations,
    rsvp,
    scheduling,
    short_links,
    usage,
    voice,
    webchat,
)
from entrypoints.http.auth import (
    AuthenticationMiddleware,
    client_provider,
    provide_principal,
    public,
)
from entrypoints.http.errors import EXCEPTION_HANDLERS
from entrypoints.http.health import health_controller
from entrypoints.http.json_bodies import JsonBodyRequest
from entrypoints.http.observability import (
    Metrics,
    ObservabilityMiddleware,
    metrics_route,
    unrouted_responses,
)
from entrypoints.http.public_writes import PublicWriteLimit
from entrypoints.http.security_headers import SecurityHeaders, pages_policy
from entrypoints.settings import PaymentProvider
from entrypoints.wiring.voice import turn_taking as voice_turn_taking
from talia_core.commerce.actor import Actor
from talia_core.identity.auth_service import AuthService
from talia_core.identity.model import Principal
from talia_core.identity.user_admin_service import UserAdminService


def create_app(container: Container) -> Litestar:
    """An app over ``container``; its resources open and close with the app's lifespan."""
    settings = container.settings()
    board = container.gateways.breakers()
    metrics = Metrics(board.snapshots)
    use_cases = container.use_cases
    trusted = frozenset(settings.http.trusted_proxies)

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        await open_resources(container)
        try:
            if settings.jobs.run_in_process:
                await start_jobs(container)
            try:
                yield
            finally:
                if settings.jobs.run_in_process:
                    await stop_jobs(container)
        finally:
            await close_resources(container)

    async def authenticate(token: str) -> Principal:
        auth: AuthService = use_cases.auth()
        return await auth.authenticate(token)

    async def record_admin_write(
        principal: Principal, action: str, target: str, ip: str, agent: str
    ) -> None:
        users: UserAdminService = use_cases.users()
        await users.record_admin_write(
            principal, action=action, target=target, ip=ip, user_agent=agent
        )

    webhooks = channels.Webhooks(settings.channels, use_cases.inbox())
    click_tally = short_links.ClickTally(
        use_cases.public_invitations,
        flush_seconds=settings.invitation_pages.click_flush_seconds,
        ttl=settings.invitation_pages.cache_seconds,
    )
    public_catalog = catalog.PublicCatalog(
        use_cases.catalog, settings.commerce.catalog_cache_seconds
    )
    # What handlers take by name: every use case of ``Talia`` (built on first use), and the
    # few objects built once per app.
    constants: dict[str, object] = {
        "public_catalog": public_catalog,
        "sandbox_pay_path": SANDBOX_PAY_PATH,
        "webhooks": webhooks,
        "webchat_tokens": container.gateways.webchat_tokens(),
        "live_feed": container.gateways.live_feed(),
        "calendar_feed": container.gateways.calendar_feed(),
        "invitation_pages": public_invitations.InvitationPages(
            settings.invitation_pages.cache_seconds,
            public_invitations.page_reader(
                use_cases.public_invitations, use_cases.invitation_media
            ),
            container.core.clock(),
        ),
        "click_tally": click_tally,
        "ai_settings": settings.ai,
        "voice_line": voice.VoiceLine(
            container.gateways.stream_tokens(),
            container.gateways.voice_activity(),
            voice_turn_taking(settings),
            settings.channels.speech_language,
        ),
    }
    sandbox: list[Any] = []
    if settings.payments.provider is PaymentProvider.SANDBOX:
        constants["sandbox"] = container.gateways.payment_gateway()
        sandbox.append(payments.SandboxController)
    dependencies = {
        "principal": Provide(provide_principal),
        "actor": Provide(provide_actor),
        "client": Provide(client_provider(trusted), sync_to_thread=False),
        "answer_throttle": Provide(
            lambda: rsvp.AnswerThrottle(container.gateways.attempt_store()), sync_to_thread=False
        ),
        **{
            name: Provide(_constant(value), sync_to_thread=False)
            for name, value in constants.items()
        },
        **{
            name: Provide(_first_use(getattr(use_cases, name)), sync_to_thread=False)
            for name in Talia.names()
        },
        "ai_throttle": Provide(
            lambda: ai.AiThrottle(
                container.gateways.attempt_store(), settings.ai.requests_per_minute
            ),
            sync_to_thread=False,
        ),
        **{
            name: Provide(_first_use(getattr(container.gateways, name)), sync_to_thread=False)
            for name in ai.ENGINES
        },
    }
    app = Litestar(
        route_handlers=[
            health_controller(container.gateways.probes(), board.snapshots),
            metrics_route(metrics, container.gateways.unit_of_work),
            *identity.CONTROLLERS,
            *feedback.CONTROLLERS,
            *catalog.CONTROLLERS,
            *commerce.CONTROLLERS,
            *payments.CONTROLLERS,
            *channels.CONTROLLERS,
            *webchat.CONTROLLERS,
            *conversations.CONTROLLERS,
            *assistants.CONTROLLERS,
            *usage.CONTROLLERS,
            *knowledge.CONTROLLERS,
            *leads.CONTROLLERS,
            *invitations.CONTROLLERS,
            *invitation_media.CONTROLLERS,
            *public_invitations.CONTROLLERS,
            *short_links.CONTROLLERS,
            *rsvp.CONTROLLERS,
            *scheduling.CONTROLLERS,
            *ai.CONTROLLERS,
            *ai_socket.CONTROLLERS,
            *voice.CONTROLLERS,
            *sandbox,
        ],
        dependencies=dependencies,
        middleware=[
            ObservabilityMiddleware(metrics, log_every_request=settings.http.access_log),
            AuthenticationMiddleware(
                authenticate,
                record_admin_write,
                trusted,
            ),
            PublicWriteLimit(
                container.gateways.attempt_store(), settings.http.public_writes_per_minute, trusted
            ),
            SecurityHeaders(pages_policy(), trusted),
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        request_class=JsonBodyRequest,
        before_send=[unrouted_responses(metrics)],
        lifespan=[lifespan, click_tally.running],
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
        logging_config=None,
        debug=False,
    )
    _document_public_routes(app)
    return app


def _constant(value: object) -> Callable[[], object]:
    return lambda: value


def _first_use(provider: Callable[[], object]) -> Callable[[], object]:
    """The use case, built when a handler first needs it: an adapter it wires (a channel's
    sender and its circuit breaker) exists only once something uses it."""
    return lambda: provider()


async def provide_actor(request: Request[Any, Any, Any]) -> Actor:
    """The caller as commerce sees them."""
    principal = await provide_principal(request)
    return Actor(principal.user_id, is_admin=principal.is_admin, email=principal.email)


def _document_public_routes(app: Litestar) -> None:
    """In OpenAPI, a route guarded by ``public`` needs no token: an empty requirement.

    ``public`` declares who may call and checks nothing, yet Litestar copies the handler for
    every guard it runs (about 15 µs a request): it is dropped from the guards the handler
    runs, which Litestar resolves once and keeps, and stays in the declared ones.
    """
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            if public in (handler.guards or ()):
                handler.security = [{}]
                running = handler.resolve_guards()
                running[:] = [guard for guard in running if guard is not public]
