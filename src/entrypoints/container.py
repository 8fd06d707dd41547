"""The composition root: the only place that picks adapters and wires use cases.

Containers are split by role: ``Core`` (clock, database engine), ``Gateways`` (every
adapter, each outbound one behind its resilience runner) and ``UseCases``. Engines and
clients are Resources: opened by ``init_resources()`` in the app's lifespan (or the
bootstrap), closed by ``shutdown_resources()``; nothing is built at import time.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import timedelta
from pathlib import Path

import httpx
from dependency_injector import containers, providers
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.assistant.offline import OfflineAssistant, load_definition
from adapters.channels.chatwoot import ChatwootChannelSender, ChatwootMediaDownloader
from adapters.channels.twilio import TwilioChannelSender, TwilioMediaDownloader
from adapters.channels.webchat import InProcessLiveFeed, RedisLiveFeed, WebChatChannelSender
from adapters.channels.whatsapp import WhatsAppCloudChannelSender, WhatsAppCloudMediaDownloader
from adapters.files.local import LocalFileStore
from adapters.jobs.saq import SaqJobQueue
from adapters.jobs.worker import DatabaseJobQueue
from adapters.payments.izipay import IzipayPaymentGateway
from adapters.payments.sandbox import SandboxPaymentGateway
from adapters.persistence.engine import create_database_engine
from adapters.persistence.inbox import SqlAlchemyInbox
from adapters.persistence.probe import SqlAlchemyDatabaseProbe
from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWork
from adapters.resilience import BreakerBoard, HyxResilienceRunner, resilient
from adapters.security.passwords import Argon2PasswordHasher
from adapters.security.tokens import JwtAccessTokens
from adapters.security.webchat_tokens import WebChatTokens
from adapters.throttle.memory import InMemoryAttemptStore
from adapters.throttle.redis import RedisAttemptStore, RedisProbe
from entrypoints.http.health import Probe
from entrypoints.settings import JobBackend, PolicySettings, Settings, ThrottleBackend
from talia_core.catalog.services import CatalogService
from talia_core.commerce.services import CartService, CouponService, OrderService, PaymentService
from talia_core.conversations.model import Channel
from talia_core.conversations.ports import ChannelSender, MediaDownloader
from talia_core.conversations.services import ConversationService, InboxService
from talia_core.feedback.services import FeedbackService
from talia_core.identity.services import AuthService, LoginThrottle, UserAdminService
from talia_core.resilience.model import (
    BreakerPolicy,
    BulkheadPolicy,
    ResiliencePolicy,
    RetryPolicy,
    retry_delay,
)
from talia_core.shared.clock import SystemClock
from talia_core.shared.errors import ExternalServiceUnavailable, TaliaError
from talia_core.shared.jobs import JobRunner, RetryDelay

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


async def inbox_lifetime(inbox: SqlAlchemyInbox) -> AsyncIterator[SqlAlchemyInbox]:
    yield inbox
    await inbox.close()


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


DEMO_ASSISTANT = Path(__file__).parent / "demo_assistant.json"


class Doorbell:
    """Rung by use cases after they commit jobs; the running job queue answers it.

    It breaks the cycle between the use cases (which record jobs) and the queue (which runs
    the use cases' handlers).
    """

    def __init__(self) -> None:
        self._listeners: list[Callable[[], None]] = []

    def ring(self) -> None:
        for listener in self._listeners:
            listener()

    def connect(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)


def channel_senders(
    settings: Settings, client: httpx.AsyncClient, board: BreakerBoard
) -> dict[Channel, ChannelSender]:
    """One sender per channel, each behind its own runner; a send is never repeated by the
    runner (the provider may have sent it): the delivery job retries it later instead."""
    channels = settings.channels
    callback = f"{channels.public_base_url}/api/twilio/status" if channels.public_base_url else None
    raw: dict[Channel, ChannelSender] = {
        Channel.WHATSAPP: WhatsAppCloudChannelSender(
            client,
            phone_number_id=channels.whatsapp_phone_number_id,
            access_token=channels.whatsapp_access_token.get_secret_value(),
            base_url=channels.whatsapp_api_url,
            api_version=channels.whatsapp_api_version,
        ),
        Channel.TWILIO: TwilioChannelSender(
            client,
            account_sid=channels.twilio_account_sid,
            auth_token=channels.twilio_auth_token.get_secret_value(),
            from_address=channels.twilio_whatsapp_from,
            status_callback_url=callback,
            base_url=channels.twilio_api_url,
        ),
        Channel.CHATWOOT: ChatwootChannelSender(
            client,
            base_url=channels.chatwoot_url,
            account_id=channels.chatwoot_account_id,
            api_access_token=channels.chatwoot_api_token.get_secret_value(),
        ),
    }
    senders: dict[Channel, ChannelSender] = {
        channel: resilient(sender, runner(channel.value, board, settings), non_idempotent={"send"})
        for channel, sender in raw.items()
    }
    senders[Channel.WEBCHAT] = WebChatChannelSender()
    return senders


def media_downloaders(
    settings: Settings, client: httpx.AsyncClient, board: BreakerBoard
) -> dict[Channel, MediaDownloader]:
    channels = settings.channels
    raw: dict[Channel, MediaDownloader] = {
        Channel.WHATSAPP: WhatsAppCloudMediaDownloader(
            client,
            access_token=channels.whatsapp_access_token.get_secret_value(),
            base_url=channels.whatsapp_api_url,
            api_version=channels.whatsapp_api_version,
        ),
        Channel.TWILIO: TwilioMediaDownloader(
            client,
            account_sid=channels.twilio_account_sid,
            auth_token=channels.twilio_auth_token.get_secret_value(),
        ),
        Channel.CHATWOOT: ChatwootMediaDownloader(client, base_url=channels.chatwoot_url),
    }
    return {
        channel: resilient(downloader, runner(f"{channel.value}-media", board, settings))
        for channel, downloader in raw.items()
    }


def assistant_definition(settings: Settings) -> Path:
    return Path(settings.assistant.definition) if settings.assistant.definition else DEMO_ASSISTANT


def job_retry_delay(settings: Settings) -> RetryDelay:
    """Backoff with full jitter between a job's attempts, honouring a provider's retry-after."""
    jobs = settings.jobs
    schedule = RetryPolicy(
        max_attempts=jobs.retry_attempts,
        base_delay_seconds=jobs.retry_base_delay_seconds,
        max_delay_seconds=max(jobs.retry_max_delay_seconds, jobs.retry_base_delay_seconds),
        multiplier=2.0,
        max_retry_after_seconds=max(jobs.retry_max_delay_seconds, 3600.0),
    )

    def delay(failed_attempt: int, error: TaliaError | None) -> float | None:
        hint = error.retry_after_seconds if isinstance(error, ExternalServiceUnavailable) else None
        return retry_delay(schedule, failed_attempt, random.random, hint)

    return delay


def job_backend(settings: Settings) -> str:
    return settings.jobs.backend.value


def live_backend(settings: Settings) -> str:
    """Several processes need Redis to reach the socket's process; one process does not."""
    return "redis" if settings.jobs.backend is JobBackend.SAQ else "memory"


def readiness_probes(settings: Settings, engine: AsyncEngine, redis: Redis) -> Sequence[Probe]:
    """The database always; Redis when the throttle or the job queue (SAQ) lives there."""
    probes: list[Probe] = [SqlAlchemyDatabaseProbe(engine)]
    if (
        settings.auth.throttle_backend is ThrottleBackend.REDIS
        or settings.jobs.backend is JobBackend.SAQ
    ):
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
    inbox = providers.Singleton(SqlAlchemyInbox, core.engine)
    inbox_lifetime = providers.Resource(inbox_lifetime, inbox)
    files = providers.Singleton(
        LocalFileStore, providers.Factory(Path, settings.provided.storage.local_dir)
    )
    assistant = providers.Singleton(
        OfflineAssistant,
        providers.Callable(load_definition, providers.Callable(assistant_definition, settings)),
    )
    live_feed = providers.Selector(
        providers.Callable(live_backend, settings),
        memory=providers.Singleton(InProcessLiveFeed),
        redis=providers.Singleton(RedisLiveFeed, redis),
    )
    channel_senders = providers.Singleton(channel_senders, settings, outbound, breakers)
    media_downloaders = providers.Singleton(media_downloaders, settings, outbound, breakers)
    webchat_tokens = providers.Singleton(
        WebChatTokens,
        secret=providers.Callable(
            str.encode, settings.provided.auth.jwt_secret.get_secret_value.call()
        ),
        lifetime=providers.Factory(timedelta, days=settings.provided.channels.webchat_session_days),
    )
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
    doorbell = providers.Singleton(Doorbell)
    inbox = providers.Singleton(
        InboxService, inbox=gateways.inbox, clock=core.clock, wake=doorbell.provided.ring
    )
    conversations = providers.Singleton(
        ConversationService,
        uow=gateways.unit_of_work.provider,
        clock=core.clock,
        senders=gateways.channel_senders,
        downloaders=gateways.media_downloaders,
        files=gateways.files,
        assistant=gateways.assistant,
        live=gateways.live_feed,
        debounce=providers.Factory(timedelta, seconds=settings.provided.channels.debounce_seconds),
        wake=doorbell.provided.ring,
    )
    job_runner = providers.Singleton(
        JobRunner,
        uow=gateways.unit_of_work.provider,
        clock=core.clock,
        handlers=conversations.provided.job_handlers.call(),
        retry_delay=providers.Callable(job_retry_delay, settings),
    )
    job_queue = providers.Selector(
        providers.Callable(job_backend, settings),
        database=providers.Singleton(
            DatabaseJobQueue,
            job_runner,
            concurrency=settings.provided.jobs.concurrency,
            poll_seconds=settings.provided.jobs.poll_seconds,
        ),
        saq=providers.Singleton(
            SaqJobQueue,
            job_runner,
            redis_url=settings.provided.redis.url,
            queue_name=settings.provided.jobs.saq_queue,
            concurrency=settings.provided.jobs.concurrency,
            poll_seconds=settings.provided.jobs.poll_seconds,
        ),
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


async def start_jobs(container: Container) -> None:
    """Start running jobs in this process, woken whenever a use case commits new ones."""
    queue = container.use_cases.job_queue()
    container.use_cases.doorbell().connect(queue.wake)
    await queue.start()


async def stop_jobs(container: Container) -> None:
    await container.use_cases.job_queue().stop()


async def close_resources(container: Container) -> None:
    closing = container.shutdown_resources()
    if closing is not None:
        await closing
