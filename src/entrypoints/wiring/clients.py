"""The database engine and the network clients, with the lifetimes that close them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.engine import create_database_engine
from adapters.persistence.inbox import SqlAlchemyInbox
from entrypoints.settings import Settings
from entrypoints.settings.database import DatabasePooler
from entrypoints.wiring.choices import uses_redis

if TYPE_CHECKING:
    from redis.asyncio import Redis


def engine(settings: Settings) -> AsyncEngine:
    """Connects on first use: building it does no I/O."""
    database = settings.database
    return create_database_engine(
        database.url,
        pool_size=database.pool_size,
        echo=database.echo,
        transaction_pooler=database.pooler is DatabasePooler.TRANSACTION,
    )


def migration_engine(settings: Settings) -> AsyncEngine:
    """The direct connection of ``TALIA_DATABASE__MIGRATION_URL`` when set, else the app's."""
    database = settings.database
    if database.migration_url:
        return create_database_engine(database.migration_url, echo=database.echo)
    return engine(settings)


def redis_client(settings: Settings) -> Redis:
    """Connects on first use, so an unused client costs nothing; redis-py is imported with
    it."""
    from redis.asyncio import Redis

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


async def redis_lifetime(settings: Settings, client: Callable[[], Redis]) -> AsyncIterator[None]:
    """The client is closed at the end when the settings put something on Redis; else it was
    never built."""
    yield
    if uses_redis(settings):
        await client().aclose()
