"""The composition root: the only place that picks adapters and wires use cases.

Containers are split by role: ``Core`` (clock, database engine), ``Gateways`` (every
adapter, each outbound one behind its resilience runner) and ``UseCases``. Engines and
clients are Resources: opened by ``init_resources()`` in the app's lifespan (or the
bootstrap), closed by ``shutdown_resources()``; nothing is built at import time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import timedelta

import httpx
from dependency_injector import containers, providers
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.payments.izipay import IzipayPaymentGateway
from adapters.payments.sandbox import SandboxPaymentGateway
from adapters.persistence.engine import create_database_engine
from adapters.persistence.probe import SqlAlchemyDatabaseProbe
from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWork
from adapters.resilience import BreakerBoard, HyxResilienceRunner, resilient
from adapters.security.passwords import Argon2PasswordHasher
from adapters.security.tokens import JwtAccessTokens
from adapters.throttle.memory import InMemoryAttemptStore
from adapters.throttle.redis import RedisAttemptStore, RedisProbe
from entrypoints.http.health import Probe
from entrypoints.settings import PolicySettings, Settings, ThrottleBackend
from talia_core.catalog.services import CatalogService
from talia_core.commerce.services import CartService, CouponService, OrderService, PaymentService
from talia_core.feedback.services import FeedbackService
from talia_core.identity.services import AuthService, LoginThrottle, UserAdminService
from talia_core.resilience.model import (
    BreakerPolicy,
    BulkheadPolicy,
    ResiliencePolicy,
    RetryPolicy,
)
from talia_core.shared.clock import SystemClock

SANDBOX_PAY_PATH = "/sandbox/payments/"


def engine(settings: Settings) -> AsyncEngine:
    """Connects on first use: building it does no I/O."""
    return create_database_engine(
        settings.database.url, pool_size=settings.database.pool_size, echo=settings.database.echo
    )


def redis_client(settings: Settings) -> Redis:
    """Connects on first use, so an unused client costs nothing."""
    return Redis.from_url(
        settings.redis.url, socket_timeout=2, socket_connect_timeout=2, health_check_interval=30
    )


def http_client(settings: Settings) -> httpx.AsyncClient:
    """One pooled client for the outbound providers; the runner adds retries and breakers."""
    timeout = settings.resilience.timeout_seconds
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
        limits=httpx.Limits(max_connections=50, max_keepalive_connections=10),
        follow_redirects=False,
    )


async def http_client_lifetime(client: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    yield client
    await client.aclose()


async def engine_lifetime(engine: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    yield engine
    await engine.dispose()


async def redis_lifetime(client: Redis) -> AsyncIterator[Redis]:
    yield client
    await client.aclose()


def policy(settings: PolicySettings) -> ResiliencePolicy:
    return ResiliencePolicy(
        timeout_seconds=settings.timeout_seconds,
        retry=RetryPolicy(
            max_attempts=settings.retry_attempts,
            base_delay_seconds=settings.retry_base_delay_seconds,
            max_delay_seconds=settings.retry_max_delay_seconds,
            multiplier=2.0,
            max_retry_after_seconds=settings.retry_max_retry_after_seconds,
        ),
        breaker=BreakerPolicy(
            failure_threshold=settings.breaker_failure_threshold,
            open_seconds=settings.breaker_open_seconds,
            half_open_probes=settings.breaker_half_open_probes,
        ),
        bulkhead=BulkheadPolicy(
            max_concurrent=settings.bulkhead_max_concurrent,
            max_wait_seconds=settings.bulkhead_max_wait_seconds,
        ),
    )


def runner(name: str, board: BreakerBoard, settings: Settings) -> HyxResilienceRunner:
    """A runner for one outbound dependency, put on the board for health and metrics."""
    return board.add(HyxResilienceRunner(name, policy(settings.resilience)))


def payment_provider(settings: Settings) -> str:
    # Not ``settings.provided.payments.provider``: ``provider`` is a provider's own attribute.
    return settings.payments.provider.value


def izipay_ipn_url(settings: Settings) -> str | None:
    return settings.payments.izipay_ipn_url or None


def readiness_probes(settings: Settings, engine: AsyncEngine, redis: Redis) -> Sequence[Probe]:
    probes: list[Probe] = [SqlAlchemyDatabaseProbe(engine)]
    if settings.auth.throttle_backend is ThrottleBackend.REDIS:
        probes.append(RedisProbe(redis))
    return probes


class Core(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    clock = providers.Singleton(SystemClock)
    # Clients are plain singletons so that what uses them stays synchronous; their
    # Resources close them when the app's lifespan (or the bootstrap) ends.
    engine = providers.Singleton(engine, settings)
    engine_lifetime = providers.Resource(engine_lifetime, engine)


class Gateways(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    core = providers.DependenciesContainer()

    breakers = providers.Singleton(BreakerBoard)
    unit_of_work = providers.Factory(SqlAlchemyUnitOfWork, engine=core.engine)
    password_hasher = providers.Singleton(
        Argon2PasswordHasher,
        time_cost=settings.provided.auth.argon2_time_cost,
        memory_cost=settings.provided.auth.argon2_memory_kib,
    )
    access_tokens = providers.Singleton(
        JwtAccessTokens,
        secret=settings.provided.auth.jwt_secret.get_secret_value.call(),
        issuer=settings.provided.auth.jwt_issuer,
        algorithm=settings.provided.auth.jwt_algorithm,
    )
    redis = providers.Singleton(redis_client, settings)
    redis_lifetime = providers.Resource(redis_lifetime, redis)
    attempt_store = providers.Selector(
        settings.provided.auth.throttle_backend.value,
        memory=providers.Singleton(InMemoryAttemptStore, clock=core.clock),
        redis=providers.Singleton(
            resilient,
            providers.Singleton(RedisAttemptStore, redis),
            providers.Singleton(runner, "redis", breakers, settings),
            non_idempotent={"hit", "take_back"},
        ),
    )
    probes = providers.Singleton(readiness_probes, settings, core.engine, redis)
    outbound = providers.Singleton(http_client, settings)
    outbound_lifetime = providers.Resource(http_client_lifetime, outbound)
    payment_gateway = providers.Selector(
        providers.Callable(payment_provider, settings),
        sandbox=providers.Singleton(
            SandboxPaymentGateway,
            secret=settings.provided.payments.sandbox_secret.get_secret_value.call(),
            pay_url=SANDBOX_PAY_PATH,
        ),
        izipay=providers.Singleton(
            resilient,
            providers.Singleton(
                IzipayPaymentGateway,
                outbound,
                base_url=settings.provided.payments.izipay_api_url,
                shop_id=settings.provided.payments.izipay_shop_id,
                password=settings.provided.payments.izipay_password.get_secret_value.call(),
                public_key=settings.provided.payments.izipay_public_key,
                ipn_url=providers.Callable(izipay_ipn_url, settings),
            ),
            providers.Singleton(runner, "izipay", breakers, settings),
            # A refund that timed out may have gone through: it is never repeated.
            non_idempotent={"refund"},
        ),
    )


class UseCases(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    core = providers.DependenciesContainer()
    gateways = providers.DependenciesContainer()

    feedback = providers.Singleton(
        FeedbackService, uow=gateways.unit_of_work.provider, clock=core.clock
    )
    login_throttle = providers.Singleton(
        LoginThrottle,
        gateways.attempt_store,
        account_failures=settings.provided.auth.login_max_failures_per_account,
        address_failures=settings.provided.auth.login_max_failures_per_address,
        window=providers.Factory(timedelta, seconds=settings.provided.auth.login_window_seconds),
    )
    auth = providers.Singleton(
        AuthService,
        uow=gateways.unit_of_work.provider,
        clock=core.clock,
        hasher=gateways.password_hasher,
        tokens=gateways.access_tokens,
        throttle=login_throttle,
        access_token_lifetime=providers.Factory(
            timedelta, minutes=settings.provided.auth.access_token_minutes
        ),
        refresh_token_lifetime=providers.Factory(
            timedelta, days=settings.provided.auth.refresh_token_days
        ),
        session_lifetime=providers.Factory(timedelta, days=settings.provided.auth.session_max_days),
    )
    catalog = providers.Singleton(
        CatalogService,
        uow=gateways.unit_of_work.provider,
        clock=core.clock,
        currency=settings.provided.commerce.currency,
    )
    carts = providers.Singleton(
        CartService,
        uow=gateways.unit_of_work.provider,
        clock=core.clock,
        currency=settings.provided.commerce.currency,
    )
    coupons = providers.Singleton(
        CouponService,
        uow=gateways.unit_of_work.provider,
        clock=core.clock,
        currency=settings.provided.commerce.currency,
    )
    orders = providers.Singleton(
        OrderService,
        uow=gateways.unit_of_work.provider,
        clock=core.clock,
        currency=settings.provided.commerce.currency,
        pending_lifetime=providers.Factory(
            timedelta, minutes=settings.provided.commerce.pending_order_minutes
        ),
        gateway=gateways.payment_gateway,
    )
    payments = providers.Singleton(
        PaymentService,
        uow=gateways.unit_of_work.provider,
        clock=core.clock,
        gateway=gateways.payment_gateway,
    )
    users = providers.Singleton(
        UserAdminService,
        uow=gateways.unit_of_work.provider,
        clock=core.clock,
        hasher=gateways.password_hasher,
    )


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    core = providers.Container(Core, settings=settings)
    gateways = providers.Container(Gateways, settings=settings, core=core)
    use_cases = providers.Container(UseCases, settings=settings, core=core, gateways=gateways)


def build_container(settings: Settings) -> Container:
    return Container(settings=providers.Object(settings))


async def open_resources(container: Container) -> None:
    """Open engines and clients (dependency-injector's async resources)."""
    opening = container.init_resources()
    if opening is not None:
        await opening


async def close_resources(container: Container) -> None:
    closing = container.shutdown_resources()
    if closing is not None:
        await closing
