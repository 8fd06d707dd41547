"""The attempt-store contract against a real Redis (REDIS_URL, default 127.0.0.1:6379)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

from adapters.throttle.redis import RedisAttemptStore
from tests.contracts.identity.attempt_store import AttemptStoreContract, PassTime
from tests.databases import unavailable

REDIS_URL = os.environ.get("TALIA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
async def client() -> AsyncIterator[Redis]:
    client = Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except (RedisError, OSError) as error:
        await client.aclose()
        unavailable("redis", error)
    yield client
    await client.aclose()


class RedisAttemptStoreTests(AttemptStoreContract):
    @pytest.fixture
    async def store(self, client: Redis) -> AsyncIterator[RedisAttemptStore]:
        prefix = f"talia-test:{uuid.uuid4().hex}:"
        yield RedisAttemptStore(client, prefix=prefix)
        keys = [key async for key in client.scan_iter(match=prefix + "*")]
        if keys:
            await client.delete(*keys)

    @pytest.fixture
    def pass_time(self) -> PassTime:
        return asyncio.sleep


async def test_concurrent_hits_are_all_counted(client: Redis) -> None:
    store = RedisAttemptStore(client, prefix=f"talia-test:{uuid.uuid4().hex}:")
    windows = await asyncio.gather(*(store.hit("k", window_seconds=60) for _ in range(50)))
    assert sorted(w.count for w in windows) == list(range(1, 51))
    await store.clear("k")
