"""The live feed over a real Redis (TALIA_TEST_REDIS_URL, default 127.0.0.1:6379/15): the
API worker holding a socket gets what a job worker in another process publishes."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

from adapters.channels.webchat import RedisLiveFeed, frame
from talia_core.shared.errors import ExternalServiceUnavailable
from tests.databases import unavailable
from tests.unit.channels.test_webchat_feed import LiveFeedContract, bot_says, next_frame

REDIS_URL = os.environ.get("TALIA_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


async def connected(name: str) -> Redis:
    client = Redis.from_url(REDIS_URL, client_name=name)
    try:
        await client.ping()
    except (RedisError, OSError) as error:
        await client.aclose()
        unavailable("redis", error)
    return client


@pytest.fixture
def prefix() -> str:
    return f"talia-test:{uuid.uuid4().hex}:"


@pytest.fixture
async def api_redis() -> AsyncIterator[Redis]:
    client = await connected(f"talia-test-api-{uuid.uuid4().hex}")
    yield client
    await client.aclose()


@pytest.fixture
async def worker_redis() -> AsyncIterator[Redis]:
    client = await connected(f"talia-test-worker-{uuid.uuid4().hex}")
    yield client
    await client.aclose()


async def subscribers(client: Redis, channel: str) -> int:
    counts = await client.pubsub_numsub(channel)
    return int(counts[0][1])


class RedisLiveFeedTests(LiveFeedContract):
    @pytest.fixture
    def feed(self, api_redis: Redis, prefix: str) -> RedisLiveFeed:
        return RedisLiveFeed(api_redis, prefix=prefix, queue_limit=3)

    @pytest.fixture
    def publisher(self, worker_redis: Redis, prefix: str) -> RedisLiveFeed:
        return RedisLiveFeed(worker_redis, prefix=prefix)


async def test_the_session_is_subscribed_in_redis_only_while_a_tab_watches_it(
    api_redis: Redis, worker_redis: Redis, prefix: str
) -> None:
    feed = RedisLiveFeed(api_redis, prefix=prefix)
    async with feed.subscribe("session-a"):
        async with feed.subscribe("session-a"), feed.subscribe("session-b"):
            assert await subscribers(worker_redis, prefix + "session-a") == 1
            assert await subscribers(worker_redis, prefix + "session-b") == 1
        assert await subscribers(worker_redis, prefix + "session-a") == 1
        assert await subscribers(worker_redis, prefix + "session-b") == 0
    assert await subscribers(worker_redis, prefix + "session-a") == 0


async def test_one_connection_serves_every_socket_of_a_process(
    api_redis: Redis, worker_redis: Redis, prefix: str
) -> None:
    feed = RedisLiveFeed(api_redis, prefix=prefix)
    name = (await api_redis.client_getname()) or ""
    async with feed.subscribe("session-a"), feed.subscribe("session-b"):
        pubsub_clients = await worker_redis.client_list(_type="pubsub")
        assert [c["name"] for c in pubsub_clients].count(name) == 1
    await asyncio.sleep(0.05)
    pubsub_clients = await worker_redis.client_list(_type="pubsub")
    assert [c["name"] for c in pubsub_clients].count(name) == 0


async def test_a_feed_can_watch_again_after_its_last_tab_left(
    api_redis: Redis, worker_redis: Redis, prefix: str
) -> None:
    feed, publisher = (
        RedisLiveFeed(api_redis, prefix=prefix),
        RedisLiveFeed(worker_redis, prefix=prefix),
    )
    async with feed.subscribe("session-a"):
        pass
    reply = bot_says("de vuelta")
    async with feed.subscribe("session-a") as frames:
        await publisher.publish("session-a", reply)

        assert await next_frame(frames) == frame(reply)


async def test_when_redis_drops_the_connection_every_tab_is_told_to_start_over(
    api_redis: Redis, worker_redis: Redis, prefix: str
) -> None:
    feed = RedisLiveFeed(api_redis, prefix=prefix)
    name = (await api_redis.client_getname()) or ""
    async with feed.subscribe("session-a") as tab1, feed.subscribe("session-b") as tab2:
        for client in await worker_redis.client_list(_type="pubsub"):
            if client["name"] == name:
                await worker_redis.client_kill_filter(_id=client["id"])

        ended = [[f async for f in tab] for tab in (tab1, tab2)]

    assert ended == [[], []]
    assert feed.watching("session-a") == 0


async def test_an_unreachable_redis_is_a_service_unavailable(prefix: str) -> None:
    client = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    feed = RedisLiveFeed(client, prefix=prefix)
    try:
        with pytest.raises(ExternalServiceUnavailable):
            await feed.publish("session-a", bot_says("hola"))
        with pytest.raises(ExternalServiceUnavailable):
            async with feed.subscribe("session-a"):
                pass
        assert feed.watching("session-a") == 0
    finally:
        await client.aclose()
